"""One training run: read corpora -> features -> speaker-grouped CV -> final fit -> ONNX + card."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamer import features
from training import corpora, dataset, evaluate, export
from training.corpora import Clip
from training.trainer import CrossCorpus, Fitted, Trainer, cross_corpus, cross_validate, fit_all

CROSS_PAIR = ("ravdess", "emodb")


@dataclass
class RunConfig:
    data_dir: Path
    corpora: list[str]
    folds: int
    seed: int
    output: Path
    cache_dir: Path | None
    model_type: str = "logreg"
    n_aug: int = 2
    smoke: bool = False
    cross_corpus: bool = True
    command: str = ""
    workers: int = 2
    threads: int = 2
    show_progress: bool = True


@dataclass
class RunReport:
    config: RunConfig
    labels: tuple[str, ...]
    n_clips: dict[str, int]
    cv: evaluate.CVResult
    per_corpus_ua: dict[str, float]
    cross: list[CrossCorpus]
    temperature: float
    final_params: dict[str, Any]
    model_bytes: int
    inference_ms: dict[str, float]
    wall_s: float
    metadata: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def smoke_subset(clips: list[Clip], n_speakers: int = 6, per_class: int = 1) -> list[Clip]:
    """A tiny but still speaker-grouped sample: a few speakers, a few clips per class each."""
    speakers = sorted({c.speaker for c in clips})[:n_speakers]
    taken: dict[tuple[str, str], int] = {}
    out = []
    for clip in clips:
        key = (clip.speaker, clip.label)
        if clip.speaker in speakers and taken.get(key, 0) < per_class:
            taken[key] = taken.get(key, 0) + 1
            out.append(clip)
    return out


def make_trainer(model_type: str, seed: int, smoke: bool, threads: int = 2) -> Trainer:
    if model_type in ("logreg", "mlp", "linear", "blend"):
        from training.models_sklearn import SklearnTrainer

        grid = (0.01,) if smoke and model_type != "mlp" else ()
        if smoke and model_type == "mlp":
            grid = (3.0,)
        return SklearnTrainer(
            kind=model_type,
            seed=seed,
            inner_folds=2 if smoke else 3,
            grid=grid,
            svm_grid=(3.0,) if smoke else (),
        )
    if model_type in ("cnn", "ensemble"):
        from training.models_torch import TorchTrainer

        return TorchTrainer(
            seed=seed, smoke=smoke, ensemble=model_type == "ensemble", threads=threads
        )
    raise ValueError(f"unknown model type {model_type!r} ({', '.join(MODEL_TYPES)})")


MODEL_TYPES = ("blend", "linear", "logreg", "mlp", "cnn", "ensemble")


def _read(cfg: RunConfig, corpus: str) -> list[Clip]:
    clips = corpora.read_corpus(cfg.data_dir, corpus)
    return smoke_subset(clips) if cfg.smoke else clips


def measure_inference(path: Path, input_kind: str, repeats: int = 30) -> dict[str, float]:
    """Median wall time (ms) for features + model on a 4 s utterance, onnxruntime on one thread."""
    from streamer.classifier import Classifier

    rng = np.random.default_rng(0)
    t = np.arange(4 * features.SAMPLE_RATE) / features.SAMPLE_RATE
    samples = (
        0.1 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        + 0.01 * rng.standard_normal(len(t))
    ).astype(np.float32)
    clf = Classifier(path)
    clf.predict(samples)  # warm-up
    total, feat = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        features.extract(samples)
        t1 = time.perf_counter()
        clf.predict(samples)
        t2 = time.perf_counter()
        feat.append(t1 - t0)
        total.append(t2 - t1)
    f, a = 1000 * float(np.median(feat)), 1000 * float(np.median(total))
    return {
        "features_ms": round(f, 2),
        "model_ms": round(max(a - f, 0.0), 2),
        "total_ms": round(a, 2),
    }


def run(cfg: RunConfig, log: Callable[[str], None] = print) -> RunReport:
    start = time.perf_counter()
    trainer = make_trainer(cfg.model_type, cfg.seed, cfg.smoke, cfg.threads)
    want_frames = trainer.input_kind == "frames"
    folds = min(cfg.folds, 3) if cfg.smoke else cfg.folds
    n_aug = min(cfg.n_aug, 1) if cfg.smoke else cfg.n_aug

    def build(clips: list[Clip]) -> dataset.Dataset:
        return dataset.build(
            clips,
            folds,
            cfg.seed,
            n_aug,
            cfg.cache_dir,
            want_frames,
            show_progress=cfg.show_progress,
        )

    per_corpus = {c: _read(cfg, c) for c in cfg.corpora}
    clips = [clip for c in cfg.corpora for clip in per_corpus[c]]
    log(
        f"{len(clips)} clips from {', '.join(f'{k} ({len(v)})' for k, v in per_corpus.items())}; "
        f"{folds} speaker-grouped folds, {n_aug} augmented copies per training clip"
    )
    ds = build(clips)
    log(
        f"cross-validating {trainer.name} on {ds.vectors.shape[1]} features, {ds.n_classes} classes"
    )
    cv = cross_validate(trainer, ds, log)
    per_corpus_ua = {}
    for name in cfg.corpora:
        rows = np.array([c.corpus == name for c in ds.clips])
        per_corpus_ua[name] = evaluate.unweighted_accuracy(
            ds.y[rows], cv.oof_probs[rows].argmax(1), ds.n_classes
        )
    log(f"speaker-independent CV: UA {cv.mean_ua:.3f} ± {cv.std_ua:.3f}, WA {cv.mean_wa:.3f}")

    log("fitting the final model on all clips")
    final = fit_all(trainer, ds)

    cross: list[CrossCorpus] = []
    notes: list[str] = []
    if cfg.cross_corpus:
        cross, note = _cross_corpus(cfg, trainer, final, ds, per_corpus, build, log)
        notes += note

    cv_method = (
        f"{folds}-fold StratifiedGroupKFold by speaker (seed {cfg.seed}) on "
        f"{'+'.join(cfg.corpora)}; hyper-parameters and temperature from inner folds"
    )
    meta = export.metadata(
        ds.labels,
        trainer.input_kind,
        cv.mean_ua,
        cv.mean_wa,
        cv_method=cv_method,
        folds=str(folds),
        cv_ua_std=f"{cv.std_ua:.4f}",
        cv_ua_per_fold=[round(f.ua, 4) for f in cv.folds],
        cv_wa_per_fold=[round(f.wa, 4) for f in cv.folds],
        cv_recall=dict(zip(ds.labels, [round(r, 4) for r in cv.pooled.recall], strict=True)),
        cv_confusion=cv.pooled.confusion,
        cv_ua_augmented_test=f"{cv.augmented_test.ua:.4f}" if cv.augmented_test else "n/a",
        ece=f"{cv.pooled.ece:.4f}",
        ece_uncalibrated=f"{cv.pooled_uncalibrated_ece:.4f}",
        temperature=f"{final.temperature:.4f}",
        cross_corpus={
            f"{c.train}->{c.test}": {
                "ua": round(c.scores.ua, 4),
                "wa": round(c.scores.wa, 4),
                "classes": list(c.classes),
            }
            for c in cross
        },
        model_type=trainer.name,
        corpora="+".join(cfg.corpora),
        seed=str(cfg.seed),
        n_clips=str(len(ds.clips)),
        augmented_copies=str(n_aug),
        smoke=str(cfg.smoke).lower(),
    )
    model = export.finish(final.to_onnx(), meta, final.temperature)
    export.save(model, cfg.output)
    size = cfg.output.stat().st_size
    speed = measure_inference(cfg.output, trainer.input_kind, repeats=5 if cfg.smoke else 30)
    log(
        f"wrote {cfg.output} ({size / 1024:.0f} KiB); features+model {speed['total_ms']:.2f} ms "
        f"per 4 s utterance"
    )
    report = RunReport(
        config=cfg,
        labels=ds.labels,
        n_clips={k: len(v) for k, v in per_corpus.items()},
        cv=cv,
        per_corpus_ua=per_corpus_ua,
        cross=cross,
        temperature=final.temperature,
        final_params=final.params,
        model_bytes=size,
        inference_ms=speed,
        wall_s=time.perf_counter() - start,
        metadata=meta,
        notes=notes,
    )
    return report


def _cross_corpus(
    cfg: RunConfig,
    trainer: Trainer,
    final: Fitted,
    ds: dataset.Dataset,
    per_corpus: dict[str, list[Clip]],
    build: Callable[[list[Clip]], dataset.Dataset],
    log: Callable[[str], None],
) -> tuple[list[CrossCorpus], list[str]]:
    """RAVDESS -> EmoDB and back, each trained on all of one corpus (shared classes only)."""
    sets: dict[str, dataset.Dataset] = {}
    for name in CROSS_PAIR:
        try:
            clips = per_corpus.get(name) or _read(cfg, name)
        except corpora.CorpusError as exc:
            return [], [f"cross-corpus evaluation skipped: {exc}"]
        sets[name] = ds if cfg.corpora == [name] else build(clips)
    out = []
    for a, b in (CROSS_PAIR, CROSS_PAIR[::-1]):
        model = final if cfg.corpora == [a] else fit_all(trainer, sets[a])
        result = cross_corpus(model, sets[a], sets[b], (a, b))
        chance = 1.0 / len(result.classes)
        log(
            f"cross-corpus {a} -> {b} ({len(result.classes)} shared classes): "
            f"UA {result.scores.ua:.3f} (chance {chance:.3f}), WA {result.scores.wa:.3f}"
        )
        out.append(result)
    return out, []

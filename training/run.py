"""One training run: read corpora -> features -> speaker-grouped CV -> final fit -> ONNX + card."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamer import features
from streamer.model.normaliser import NormaliserParams
from training.data import corpora, dataset, feature_sets
from training.data.corpora import Clip
from training.data.labels import LabelPlan, check_present
from training.data.manifest import Source
from training.evaluation import metrics as evaluate
from training.evaluation import robustness
from training.export import onnx_model as export
from training.models import streams
from training.models.registry import DEFAULT_MODEL_TYPE, MODEL_TYPES, make_trainer
from training.models.trainer import (
    CrossCorpus,
    Fitted,
    Trainer,
    cross_corpus,
    cross_validate,
    fit_all,
)

__all__ = ["MODEL_TYPES", "RunConfig", "RunReport", "run"]

CROSS_PAIR = ("ravdess", "emodb")
# The stream normaliser (streamer/model/normaliser.py): the training prior counts as 20
# utterances (a stream is mostly its own after ~20, as measured in issue 10), the statistics
# cover the last 300 utterances, the level the last 10. On the leave-one-corpus-out test
# (RAVDESS <-> EmoDB, logistic regression, all 880 columns) prior weights 5 / 20 / 50 gave UA
# 0.413 / 0.419 / 0.393 and 0.364 / 0.370 / 0.371; no stream adaptation 0.325 and 0.260.
PRIOR_WEIGHT = 20.0
WINDOW = 300
LEVEL_WINDOW = 10
LEVEL_CLIPS = 120  # clips whose gain response sets the level coefficients
CALL_CLIPS = 150  # held-out clips in the long call replayed at other gains


@dataclass
class RunConfig:
    data_dir: Path
    corpora: list[str]
    folds: int
    seed: int
    output: Path
    cache_dir: Path | None
    model_type: str = DEFAULT_MODEL_TYPE
    feature_set: str = feature_sets.DEFAULT_FEATURE_SET
    prep: Any = (
        None  # training.data.audio.Preparation: the [vad]/[segmenter] settings clips are cut with
    )
    normalise: str = "stream"  # "stream": per-corpus / per-call statistics; "global": training's
    n_aug: int = 2
    smoke: bool = False
    cross_corpus: bool = True
    command: str = ""
    workers: int = 2
    threads: int = 2
    show_progress: bool = True
    split: str = "speaker"  # "random": the tutorials' leaky split, for comparison only
    sources: list[Source] = field(default_factory=list)  # --manifest / --folder clips
    plan: LabelPlan = field(default_factory=LabelPlan)  # --labels / --map


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
    corpus_cv_ua: dict[str, float] = field(default_factory=dict)  # each corpus, its own labels
    loco_temperature: float = 1.0
    loco_ece: tuple[float, float] | None = None  # before, after the temperature
    uncertain_below: float | None = None
    precision_curve: list[tuple[float, float, float]] = field(default_factory=list)
    gain_flips: Any = None
    non_speech: Any = None
    data: dict[str, Any] = field(default_factory=dict)  # what the model saw (card, metadata)


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


def _read_counted(cfg: RunConfig, corpus: str) -> tuple[list[Clip], dict[str, int]]:
    """A built-in corpus's clips under the run's label plan, and how many each label dropped."""
    clips, dropped = cfg.plan.apply(corpora.read_corpus(cfg.data_dir, corpus))
    if not clips:
        raise corpora.CorpusError(f"no {corpus} clips keep a label of --labels")
    return (smoke_subset(clips) if cfg.smoke else clips), dict(sorted(dropped.items()))


def _read(cfg: RunConfig, corpus: str) -> list[Clip]:
    return _read_counted(cfg, corpus)[0]


def gather(cfg: RunConfig) -> tuple[dict[str, list[Clip]], dict[str, dict[str, int]]]:
    """Training clips per corpus: the built-in corpora, then every manifest's and folder's
    corpora in the order they appear (a corpus comes from one place only); and the clips
    --labels left out of each built-in corpus."""
    per_corpus: dict[str, list[Clip]] = {}
    dropped: dict[str, dict[str, int]] = {}
    for c in cfg.corpora:
        per_corpus[c], left_out = _read_counted(cfg, c)
        if left_out:
            dropped[c] = left_out
    own: dict[str, list[Clip]] = {}
    origin: dict[str, str] = {}
    for source in cfg.sources:
        for clip in source.clips:
            if clip.corpus in per_corpus:
                raise corpora.CorpusError(
                    f"{source.name}: corpus {clip.corpus!r} is also read by --corpora; "
                    "name the manifest's corpus otherwise"
                )
            if origin.setdefault(clip.corpus, source.name) != source.name:
                raise corpora.CorpusError(
                    f"{source.name}: corpus {clip.corpus!r} also comes from {origin[clip.corpus]}"
                )
            own.setdefault(clip.corpus, []).append(clip)
    for name, clips in own.items():
        per_corpus[name] = smoke_subset(clips) if cfg.smoke else clips
    return per_corpus, dropped


def data_summary(
    cfg: RunConfig, per_corpus: dict[str, list[Clip]], dropped: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """The data the model saw, for its card and metadata."""
    counts: dict[str, int] = {}
    for clips in per_corpus.values():
        for clip in clips:
            counts[clip.label] = counts.get(clip.label, 0) + 1
    out: dict[str, Any] = {
        "corpora": {k: len(v) for k, v in per_corpus.items()},
        "speakers": len({c.speaker for v in per_corpus.values() for c in v}),
        "clips_per_label": counts,
        "sources": [s.describe() for s in cfg.sources],
    }
    if dropped:
        out["dropped_by_labels"] = dropped  # built-in corpora; manifests count in "sources"
    if cfg.plan.keep is not None:
        out["labels_kept"] = list(cfg.plan.keep)
    if cfg.plan.rename:
        out["label_map"] = dict(cfg.plan.rename)
    return out


def measure_inference(path: Path, input_kind: str, repeats: int = 30) -> dict[str, float]:
    """Median wall time (ms) for features + model on a 4 s utterance, onnxruntime on one thread."""
    from streamer.model.classifier import Classifier

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


def _recipe(cfg: RunConfig, clips: list[Clip], input_kind: str) -> streams.StreamRecipe | None:
    if input_kind != "vector" or cfg.normalise != "stream":
        return None
    from training.data import audio

    rng = np.random.default_rng(cfg.seed)
    n = min(len(clips), 12 if cfg.smoke else LEVEL_CLIPS)
    chosen = [clips[i] for i in sorted(rng.choice(len(clips), size=n, replace=False))]
    coef = streams.level_coefficients([audio.load(c.path, cfg.prep) for c in chosen])
    return streams.StreamRecipe(
        columns=feature_sets.columns(cfg.feature_set),
        level_coef=coef,
        prior_weight=PRIOR_WEIGHT,
        window=WINDOW,
        level_window=LEVEL_WINDOW,
        seed=cfg.seed,
    )


def _corpus_ua(ds: dataset.Dataset, probs: np.ndarray) -> dict[str, float]:
    """UA of each corpus's out-of-fold predictions, arg-max over that corpus's own labels."""
    out = {}
    for name in sorted({c.corpus for c in ds.clips}):
        rows = np.flatnonzero(ds.corpora == name)
        own = sorted({int(ds.y[i]) for i in rows})
        pred = np.array(own)[probs[rows][:, own].argmax(1)]
        out[name] = evaluate.unweighted_accuracy(ds.y[rows], pred, ds.n_classes)
    return out


def precision_curve(
    held_out: list[tuple[np.ndarray, np.ndarray]],
) -> list[tuple[float, float, float]]:
    """(threshold, share of rows at or above it, accuracy of those rows) on pooled held-out
    ``(probs, y)`` pairs, for thresholds 0.30, 0.35, ... 0.95."""
    conf = np.concatenate([p.max(axis=1) for p, _ in held_out])
    correct = np.concatenate([p.argmax(axis=1) == y for p, y in held_out])
    curve = []
    for threshold in np.round(np.arange(0.30, 0.96, 0.05), 2):
        shown = conf >= threshold
        precision = float(correct[shown].mean()) if shown.any() else float("nan")
        curve.append((float(threshold), float(shown.mean()), precision))
    return curve


def choose_uncertain_below(
    curve: list[tuple[float, float, float]], n_rows: int, precision: float = 0.5
) -> float:
    """The lowest threshold from which held-out-corpus labels are right at least ``precision``
    of the time (over at least 1 % and 10 of the rows): a label shown as certain then means
    something on voices the model never heard. If none gets there, the threshold whose rows are
    most often right among those that keep at least 5 % of the rows."""
    for threshold, share, right in curve:
        if share * n_rows >= 10 and share >= 0.01 and right >= precision:
            return threshold
    usable = [(right, threshold) for threshold, share, right in curve if share >= 0.05]
    return max(usable)[1] if usable else 0.5


def run(cfg: RunConfig, log: Callable[[str], None] = print) -> RunReport:
    start = time.perf_counter()
    if cfg.prep is None:
        from training.data.audio import default_preparation

        cfg.prep = default_preparation()
    trainer = make_trainer(cfg.model_type, cfg.seed, cfg.smoke, cfg.threads)
    want_frames = trainer.input_kind == "frames"
    folds = min(cfg.folds, 3) if cfg.smoke else cfg.folds
    n_aug = min(cfg.n_aug, 1) if cfg.smoke else cfg.n_aug

    def build(
        clips: list[Clip], labels: tuple[str, ...] | None = None, split: str = "speaker"
    ) -> dataset.Dataset:
        return dataset.build(
            clips,
            folds,
            cfg.seed,
            n_aug,
            cfg.cache_dir,
            want_frames,
            labels=labels,
            show_progress=cfg.show_progress,
            workers=cfg.workers,
            prep=cfg.prep,
            split=split,
        )

    leaky = cfg.split == "random"
    per_corpus, dropped = gather(cfg)
    clips = [clip for v in per_corpus.values() for clip in v]
    check_present(cfg.plan, clips)
    if not leaky:
        evaluate.check_label_speakers(clips)
    data = data_summary(cfg, per_corpus, dropped)
    for name, left_out in dropped.items():
        log(f"{name}: left out by --labels: {', '.join(f'{k} {n}' for k, n in left_out.items())}")
    log(
        f"{len(clips)} clips from {', '.join(f'{k} ({len(v)})' for k, v in per_corpus.items())}; "
        f"{folds} {'RANDOM (leaky)' if leaky else 'speaker-grouped'} folds, {n_aug} augmented "
        "copies per training clip"
    )
    if leaky:
        log(f"WARNING: {evaluate.LEAKY}")
    ds = build(clips, cfg.plan.keep, cfg.split)
    recipe = _recipe(cfg, clips, trainer.input_kind)
    n_columns = len(recipe.columns) if recipe else ds.vectors.shape[1]
    log(
        f"cross-validating {trainer.name} on {n_columns} features ({cfg.feature_set}), "
        f"{ds.n_classes} classes, "
        + ("each corpus normalised as its own stream" if recipe else "one global scaler")
    )
    cv = cross_validate(trainer, ds, log, recipe)
    corpus_ua = _corpus_ua(ds, cv.oof_probs)
    log(
        f"{'RANDOM-SPLIT (leaky)' if leaky else 'speaker-independent'} CV: "
        f"UA {cv.mean_ua:.3f} ± {cv.std_ua:.3f}, WA {cv.mean_wa:.3f}; "
        + ", ".join(f"{k} (own labels) UA {v:.3f}" for k, v in corpus_ua.items())
    )

    log("fitting the final model on all clips")
    final, params = fit_all(trainer, ds, recipe)

    cross: list[CrossCorpus] = []
    notes: list[str] = []
    flips = None
    if cfg.cross_corpus and cfg.sources and not all(c in per_corpus for c in CROSS_PAIR):
        notes.append(
            "cross-corpus evaluation skipped: it tests RAVDESS <-> EmoDB, and this run does not "
            "train on both"
        )
    elif cfg.cross_corpus:
        cross, note, loco_models = _cross_corpus(cfg, trainer, ds, per_corpus, build, recipe, log)
        notes += note
    if cross:
        # one temperature for all held-out-corpus predictions together
        temperature = evaluate.fit_temperature([c.raw_probs for c in cross], [c.y for c in cross])
        before = float(
            np.mean([evaluate.expected_calibration_error(c.raw_probs, c.y) for c in cross])
        )
        calibrated = [evaluate.apply_temperature(c.raw_probs, temperature) for c in cross]
        after = float(
            np.mean(
                [
                    evaluate.expected_calibration_error(p, c.y)
                    for p, c in zip(calibrated, cross, strict=True)
                ]
            )
        )
        held_out = [(p, c.y) for p, c in zip(calibrated, cross, strict=True)]
        curve = precision_curve(held_out)
        uncertain = choose_uncertain_below(curve, sum(len(y) for _, y in held_out))
        log(
            f"held-out-corpus calibration: T={temperature:.2f}, ECE {before:.3f} -> {after:.3f}; "
            f"uncertain below {uncertain:.2f}"
        )
    else:
        temperature, before, after, uncertain = final.temperature, None, None, None
        curve = []
    final.temperature = temperature

    cv_method = (
        f"{folds}-fold StratifiedKFold, RANDOM split (seed {cfg.seed}; {evaluate.LEAKY}) on "
        if leaky
        else f"{folds}-fold StratifiedGroupKFold by speaker (seed {cfg.seed}) on "
    )
    cv_method += (
        f"{'+'.join(per_corpus)}; every corpus (or manifest session) normalised as its own "
        "stream; corpora weighted equally; temperature from "
        + ("held-out corpora" if cross else "inner folds")
    )
    gate = None
    if recipe is not None:
        from training.models.gate_fit import fit_gate

        gate = fit_gate(ds.vectors)
    main_ua = corpus_ua.get("ravdess", cv.mean_ua)
    extra: dict[str, Any] = {}
    for c in cross:
        key = f"{c.train}_to_{c.test}"
        extra[f"loco_ua_{key}"] = f"{c.scores.ua:.4f}" if c.scores else "n/a"
        extra[f"loco_ua4_{key}"] = f"{c.four_class.ua:.4f}" if c.four_class else "n/a"
    if recipe is not None:
        extra["columns"] = [features.FEATURE_NAMES[i] for i in recipe.columns]
        extra["normaliser"] = params.to_json() if params is not None else None
        extra["speech_gate"] = gate.to_json() if gate is not None else None
    if uncertain is not None:
        extra["uncertain_below"] = f"{uncertain:.2f}"
    meta = export.metadata(
        ds.labels,
        trainer.input_kind,
        main_ua,
        cv.mean_wa,
        cv_method=cv_method,
        cv_ua_all_corpora=f"{cv.mean_ua:.4f}",
        cv_ua_per_corpus={k: round(v, 4) for k, v in corpus_ua.items()},
        folds=str(folds),
        cv_ua_std=f"{cv.std_ua:.4f}",
        cv_ua_per_fold=[round(f.ua, 4) for f in cv.folds],
        cv_wa_per_fold=[round(f.wa, 4) for f in cv.folds],
        cv_recall=dict(zip(ds.labels, [round(r, 4) for r in cv.pooled.recall], strict=True)),
        cv_confusion=cv.pooled.confusion,
        cv_ua_augmented_test=f"{cv.augmented_test.ua:.4f}" if cv.augmented_test else "n/a",
        ece_loco=f"{after:.4f}" if after is not None else "n/a",
        ece_loco_uncalibrated=f"{before:.4f}" if before is not None else "n/a",
        temperature=f"{temperature:.4f}",
        cross_corpus={
            f"{c.train}->{c.test}": {
                "ua": round(c.scores.ua, 4) if c.scores else None,
                "wa": round(c.scores.wa, 4) if c.scores else None,
                "ua_4class": round(c.four_class.ua, 4) if c.four_class else None,
                "classes": list(c.classes),
            }
            for c in cross
        },
        model_type=trainer.name,
        feature_set=cfg.feature_set,
        segmenter=cfg.prep.to_dict(),
        corpora="+".join(per_corpus),
        data=data,
        split="random (leaky: speakers in training and test)" if leaky else "speaker",
        seed=str(cfg.seed),
        n_clips=str(len(ds.clips)),
        augmented_copies=str(n_aug),
        smoke=str(cfg.smoke).lower(),
        **{k: v for k, v in extra.items() if v is not None},
    )
    non_speech = None
    if recipe is not None:
        import tempfile

        from streamer.settings import load_settings

        # The robustness checks replay the exported graph through the live pipeline; it is
        # written once, to the real output, when their figures are in its metadata.
        vad, seg = cfg.prep.vad, cfg.prep.segmenter
        threshold = uncertain if uncertain is not None else load_settings().ui.uncertain_below
        with tempfile.TemporaryDirectory() as tmp:
            trial = Path(tmp) / "model.onnx"
            export.save(export.finish(final.to_onnx(), meta, final.temperature), trial)
            non_speech = robustness.non_speech_rows(
                trial, vad, seg, threshold, seconds=5.0 if cfg.smoke else 20.0
            )
        log(
            f"non-speech: {sum(non_speech.rows.values())} rows, "
            f"{non_speech.total_confident} confident"
        )
        if cross and loco_models:
            flips = _gain_flips(cfg, loco_models, per_corpus, vad, seg, log)
        meta["non_speech_confident_rows"] = str(non_speech.total_confident)
        meta["non_speech_rows"] = json.dumps(non_speech.rows)
        if flips is not None:
            meta["gain_flips"] = json.dumps({"utterances": flips.utterances, **flips.shares})
    export.save(export.finish(final.to_onnx(), meta, final.temperature), cfg.output)
    size = cfg.output.stat().st_size
    speed = measure_inference(cfg.output, trainer.input_kind, repeats=5 if cfg.smoke else 30)
    log(
        f"wrote {cfg.output} ({size / 1024:.0f} KiB); features+model {speed['total_ms']:.2f} ms "
        f"per 4 s utterance"
    )
    return RunReport(
        config=cfg,
        labels=ds.labels,
        n_clips={k: len(v) for k, v in per_corpus.items()},
        cv=cv,
        per_corpus_ua=corpus_ua,
        cross=cross,
        temperature=final.temperature,
        final_params=final.params,
        model_bytes=size,
        inference_ms=speed,
        wall_s=time.perf_counter() - start,
        metadata=meta,
        notes=notes,
        corpus_cv_ua=corpus_ua,
        loco_temperature=temperature,
        loco_ece=(before, after) if before is not None else None,
        uncertain_below=uncertain,
        precision_curve=curve,
        gain_flips=flips,
        non_speech=non_speech,
        data=data,
    )


@dataclass
class LocoModel:
    train: str
    test: str
    ds: dataset.Dataset
    model: Fitted
    params: NormaliserParams | None


def _cross_corpus(
    cfg: RunConfig,
    trainer: Trainer,
    ds: dataset.Dataset,
    per_corpus: dict[str, list[Clip]],
    build: Callable[[list[Clip]], dataset.Dataset],
    recipe: streams.StreamRecipe | None,
    log: Callable[[str], None],
) -> tuple[list[CrossCorpus], list[str], list[LocoModel]]:
    """Leave one corpus out: train on all of RAVDESS, test on EmoDB streamed as a call, and the
    reverse (the model type, features and normaliser of the shipped recipe)."""
    sets: dict[str, dataset.Dataset] = {}
    for name in CROSS_PAIR:
        try:
            clips = per_corpus.get(name) or _read(cfg, name)
        except corpora.CorpusError as exc:
            return [], [f"cross-corpus evaluation skipped: {exc}"], []
        sets[name] = build(clips)
    out, models = [], []
    for a, b in (CROSS_PAIR, CROSS_PAIR[::-1]):
        model, params = fit_all(trainer, sets[a], recipe)
        result = cross_corpus(model, sets[a], sets[b], (a, b), params, recipe)
        if result.scores is not None:
            chance = 1.0 / len(result.classes)
            four = f", 4-class UA {result.four_class.ua:.3f}" if result.four_class else ""
            log(
                f"leave-one-corpus-out {a} -> {b} ({len(result.classes)} shared classes): "
                f"UA {result.scores.ua:.3f} (chance {chance:.3f}), WA {result.scores.wa:.3f}{four}"
            )
        out.append(result)
        models.append(LocoModel(a, b, sets[a], model, params))
    return out, [], models


def _loco_metadata(cfg: RunConfig, loco: LocoModel) -> dict[str, str]:
    """Metadata that makes a leave-one-corpus-out model run in ser-live like the shipped one."""
    from training.models.gate_fit import fit_gate

    meta = export.metadata(loco.ds.labels, "vector", 0.0, 0.0)
    if loco.params is not None:
        columns = feature_sets.columns(cfg.feature_set)
        meta["columns"] = json.dumps([features.FEATURE_NAMES[i] for i in columns])
        meta["normaliser"] = loco.params.to_json()
        meta["speech_gate"] = fit_gate(loco.ds.vectors).to_json()
    return meta


def _gain_flips(
    cfg: RunConfig,
    loco_models: list[LocoModel],
    per_corpus: dict[str, list[Clip]],
    vad: Any,
    seg: Any,
    log: Callable[[str], None],
) -> robustness.GainFlips:
    """The RAVDESS-trained model, exported like the shipped one, on a long call of EmoDB clips
    it never heard, replayed through the live pipeline at other gains."""
    import tempfile

    from training.data import audio

    first = loco_models[0]
    test_clips = per_corpus.get(first.test) or _read(cfg, first.test)
    rng = np.random.default_rng(cfg.seed)
    n = min(len(test_clips), 12 if cfg.smoke else CALL_CLIPS)
    chosen = [test_clips[i] for i in sorted(rng.choice(len(test_clips), size=n, replace=False))]
    call = robustness.long_call(
        [audio.load(c.path, cfg.prep, trim=False) for c in chosen], cfg.seed
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "loco.onnx"
        model = export.finish(
            first.model.to_onnx(), _loco_metadata(cfg, first), first.model.temperature
        )
        export.save(model, path)
        flips = robustness.gain_flips(path, call, vad, seg)
    log(
        f"gain flips ({first.train} model, long call of {n} {first.test} clips, "
        f"{flips.utterances} utterances): "
        + ", ".join(f"{k} {100 * v:.1f} %" for k, v in flips.shares.items())
    )
    return flips

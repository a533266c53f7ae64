"""One training run, as named steps:

gather clips -> extract (front-end, cached) -> speaker-grouped cross-validation -> final fit and
speech gate -> leave one corpus out (clip level and, through the streaming engine, call level)
-> calibration on the held-out calls -> robustness replays -> ONNX + metadata (+ the card).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from streamer import features
from streamer.model.normaliser import NormaliserParams
from training.config import RunConfig, RunReport
from training.data import audio, dataset, feature_sets
from training.data.clips import Clip, CorpusError
from training.data.gathering import data_summary, gather
from training.data.labels import check_present
from training.evaluation import calibration, calls, loco, metrics, robustness
from training.export import onnx_model as export
from training.models import streams
from training.models.gate_fit import fit_gate, fit_linear_gate, nonspeech_segments
from training.models.registry import make_trainer
from training.models.trainer import Fitted, Trainer, cross_validate, fit_all

Log = Callable[[str], None]
WINDOW = 300  # utterances the stream statistics cover
LEVEL_WINDOW = 10  # utterances the stream level follows
LEVEL_CLIPS = 120  # clips whose gain response sets the level coefficients
CALL_CLIPS = 150  # held-out clips in the long call replayed at other gains


@dataclass
class Setup:
    """What the steps share, resolved once from the config."""

    cfg: RunConfig
    trainer: Trainer
    frontend: Any  # streamer.model.frontends.FrontEnd
    folds: int
    n_aug: int
    settings: Any  # streamer.settings.Settings the calls are replayed with

    @property
    def want_frames(self) -> bool:
        return self.trainer.input_kind == "frames"


def setup_run(cfg: RunConfig) -> Setup:
    from training.data.cache import frontend_of

    if cfg.prep is None:
        cfg.prep = audio.default_preparation()
    settings = cfg.settings
    if settings is None:
        settings = robustness.settings_with(cfg.prep.vad, cfg.prep.segmenter)
    trainer = make_trainer(cfg.model_type, cfg.seed, cfg.smoke, cfg.threads, cfg.regularisation)
    if trainer.input_kind == "frames" and cfg.frontend.name != "functionals":
        raise CorpusError(f"--model-type {cfg.model_type} reads frames: use --frontend functionals")
    return Setup(
        cfg=cfg,
        trainer=trainer,
        frontend=frontend_of(cfg.frontend),
        folds=min(cfg.folds, 3) if cfg.smoke else cfg.folds,
        n_aug=min(cfg.n_aug, 1) if cfg.smoke else cfg.n_aug,
        settings=settings,
    )


def build_dataset(setup: Setup, clips: list[Clip]) -> dataset.Dataset:
    cfg = setup.cfg
    return dataset.build(
        clips,
        setup.folds,
        cfg.seed,
        setup.n_aug,
        cfg.cache_dir,
        setup.want_frames,
        labels=cfg.plan.keep,
        show_progress=cfg.show_progress,
        workers=cfg.workers,
        prep=cfg.prep,
        split=cfg.split,
        frontend=cfg.frontend,
    )


def stream_recipe(setup: Setup, clips: list[Clip]) -> streams.StreamRecipe | None:
    """How corpora are normalised as streams; None for frame models or --normalise global."""
    cfg = setup.cfg
    if setup.trainer.input_kind != "vector" or cfg.normalise != "stream":
        return None
    names = setup.frontend.names
    level = setup.frontend.level_column
    if level is None:  # the front-end takes the level out itself
        coef = np.zeros(len(names))
    else:
        rng = np.random.default_rng(cfg.seed)
        n = min(len(clips), 12 if cfg.smoke else LEVEL_CLIPS)
        chosen = [clips[i] for i in sorted(rng.choice(len(clips), size=n, replace=False))]
        samples = [audio.load(c.path, cfg.prep) for c in chosen]
        coef = streams.level_coefficients(samples, setup.frontend.vector)
    return streams.StreamRecipe(
        columns=feature_sets.columns(cfg.feature_set, names),
        level_coef=coef,
        prior_weight=cfg.prior_weight,
        window=WINDOW,
        level_window=LEVEL_WINDOW,
        seed=cfg.seed,
        level_index=None if level is None else names.index(level),
    )


def corpus_ua(ds: dataset.Dataset, probs: np.ndarray) -> dict[str, float]:
    """UA of each corpus's out-of-fold predictions, arg-max over that corpus's own labels."""
    out = {}
    for name in sorted({c.corpus for c in ds.clips}):
        rows = np.flatnonzero(ds.corpora == name)
        own = sorted({int(ds.y[i]) for i in rows})
        pred = np.array(own)[probs[rows][:, own].argmax(1)]
        out[name] = metrics.unweighted_accuracy(ds.y[rows], pred, ds.n_classes)
    return out


def speech_gate(setup: Setup, ds: dataset.Dataset) -> Any:
    """The front-end's gate: column ranges for the functionals, a linear score for learned
    front-ends (fitted against synthetic non-speech cut by the live segmenter)."""
    kind = setup.cfg.speech_gate
    if setup.trainer.input_kind != "vector" or setup.cfg.normalise != "stream" or kind == "none":
        return None
    if kind == "ranges" or (kind == "auto" and setup.frontend.name == "functionals"):
        return fit_gate(ds.vectors, setup.frontend.names)
    negatives = np.array([setup.frontend.vector(s) for s in _nonspeech(setup)])
    speech = np.concatenate([ds.vectors, ds.aug_vectors]).astype(np.float64)
    return fit_linear_gate(speech, negatives, setup.cfg.seed)


def _nonspeech(setup: Setup) -> list[np.ndarray]:
    from streamer.engine.build import make_segmenter

    prep = setup.cfg.prep

    def cut(signal: np.ndarray) -> list[np.ndarray]:
        segmenter = make_segmenter(prep.vad, prep.segmenter)
        return [u.samples for u in segmenter.feed(signal) + segmenter.flush()]

    return nonspeech_segments(cut, seconds=5.0 if setup.cfg.smoke else 20.0)


def model_metadata(
    setup: Setup,
    labels: tuple[str, ...],
    params: NormaliserParams | None,
    recipe: streams.StreamRecipe | None,
    gate: Any,
    **extra: Any,
) -> dict[str, str]:
    """The metadata a ser-live model needs to run as trained (and any figures in ``extra``)."""
    more: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if recipe is not None and params is not None:
        more["columns"] = [setup.frontend.names[i] for i in recipe.columns]
        more["normaliser"] = params.to_json()
    if gate is not None:
        more["speech_gate"] = gate.to_json()
    more["model_type"] = setup.trainer.name
    cv_ua, cv_wa = float(more.pop("cv_ua", 0.0)), float(more.pop("cv_wa", 0.0))
    return export.metadata(labels, setup.trainer.input_kind, cv_ua, cv_wa, setup.frontend, **more)


def place_frontend_file(setup: Setup, folder: Path, link: bool) -> Path | None:
    """The front-end's file (the encoder) beside a model in ``folder``: linked for a throw-away
    model, copied for one that ships (a model names its encoder by file name)."""
    source = getattr(setup.frontend, "path", None)
    if source is None:
        return None
    target = folder / source.name
    if target.exists() and target.resolve() == source.resolve():
        return target
    if link:
        target.symlink_to(source.resolve())
    else:
        shutil.copyfile(source, target)
    return target


def loco_setup(setup: Setup, recipe: streams.StreamRecipe | None) -> loco.LocoSetup:
    cfg = setup.cfg

    def export_for_replay(model: Fitted, params: Any, train: dataset.Dataset, folder: Path) -> Path:
        gate = speech_gate(setup, train)
        meta = model_metadata(setup, train.labels, params, recipe, gate)
        place_frontend_file(setup, folder, link=True)
        path = folder / "held-out.onnx"
        export.save(export.finish(model.to_onnx(), meta, 1.0), path)  # raw: calibrated later
        return path

    plans = {}
    if cfg.degraded_calls and not cfg.smoke:
        plans = {
            "16-clip calls": calls.CallPlan(clips_per_call=16),
            "telephone": calls.CallPlan(channel="telephone"),
            "babble": calls.CallPlan(channel="babble"),
        }
    return loco.LocoSetup(
        trainer=setup.trainer,
        recipe=recipe,
        settings=setup.settings,
        prep=cfg.prep,
        seed=cfg.seed,
        export=export_for_replay,
        plans=plans,
        partial_every_s=setup.settings.segmenter.partial_every_s,
        cache_dir=cfg.cache_dir,
    )


def held_out(
    setup: Setup, ds: dataset.Dataset, recipe: Any, log: Log
) -> tuple[list[loco.HeldOut], list[str]]:
    if not setup.cfg.cross_corpus:
        return [], ["leave-one-corpus-out tests skipped (--no-cross-corpus)"]
    if len(set(ds.corpora)) < 2:
        return [], ["leave-one-corpus-out tests need two corpora or more; this run has one"]
    return loco.held_out_fits(ds, loco_setup(setup, recipe), log), []


def gain_flip_calls(
    setup: Setup, ds: dataset.Dataset, recipe: Any, log: Log
) -> dict[str, robustness.GainFlips]:
    """Each held-out corpus: a long call of its clips replayed at other gains through the model
    trained without it (what a quieter or louder microphone does to the labels)."""
    out: dict[str, robustness.GainFlips] = {}
    if recipe is None or len(set(ds.corpora)) < 2 or not setup.cfg.cross_corpus:
        return out
    prep, exporter = setup.cfg.prep, loco_setup(setup, recipe).export
    for corpus in sorted(set(ds.corpora)):
        train = dataset.subset_by_corpus(ds, set(ds.corpora) - {corpus})
        test = [c for c in ds.clips if c.corpus == corpus]
        rng = np.random.default_rng(setup.cfg.seed)
        n = min(len(test), 12 if setup.cfg.smoke else CALL_CLIPS)
        chosen = [test[i] for i in sorted(rng.choice(len(test), size=n, replace=False))]
        call = robustness.long_call([audio.load(c.path, prep, trim=False) for c in chosen], 1)
        model, params = fit_all(setup.trainer, train, recipe)
        with tempfile.TemporaryDirectory() as folder:
            path = exporter(model, params, train, Path(folder))
            out[corpus] = robustness.gain_flips(path, call, prep.vad, prep.segmenter)
        shares = ", ".join(f"{k} {100 * v:.1f} %" for k, v in out[corpus].shares.items())
        log(f"gain flips, {corpus} held out ({out[corpus].utterances} utterances): {shares}")
    return out


def run(cfg: RunConfig, log: Log = print) -> RunReport:
    start = time.perf_counter()
    setup = setup_run(cfg)
    per_corpus, dropped = gather(cfg, log)
    clips = [clip for v in per_corpus.values() for clip in v]
    check_present(cfg.plan, clips)
    if cfg.split != "random":
        metrics.check_label_speakers(clips)
    _announce(setup, per_corpus, log)
    ds = build_dataset(setup, clips)
    recipe = stream_recipe(setup, clips)
    cv = cross_validate(setup.trainer, ds, log, recipe)
    per_corpus_ua = corpus_ua(ds, cv.oof_probs)
    log(_cv_line(cfg, cv, per_corpus_ua))
    log("fitting the final model on all clips")
    final, params = fit_all(setup.trainer, ds, recipe)
    gate = speech_gate(setup, ds)
    held, notes = held_out(setup, ds, recipe, log)
    calib = calibration.calibrate(held, final.temperature)
    _log_calibration(calib, log)
    report = RunReport(
        config=cfg, labels=ds.labels, n_clips={k: len(v) for k, v in per_corpus.items()},
        cv=cv, per_corpus_ua=per_corpus_ua, held_out=held, calibration=calib,
        final_params=final.params, model_bytes=0, inference_ms={}, wall_s=0.0, notes=notes,
        data=data_summary(cfg, per_corpus, dropped),
    )
    report.gain_flips = gain_flip_calls(setup, ds, recipe, log)
    _export(setup, report, ds, final, params, recipe, gate, log)
    report.wall_s = time.perf_counter() - start
    return report


def _announce(setup: Setup, per_corpus: dict[str, list[Clip]], log: Log) -> None:
    cfg = setup.cfg
    leaky = cfg.split == "random"
    n = sum(len(v) for v in per_corpus.values())
    log(
        f"{n} clips from {', '.join(f'{k} ({len(v)})' for k, v in per_corpus.items())}; "
        f"{setup.folds} {'RANDOM (leaky)' if leaky else 'speaker-grouped'} folds, "
        f"{setup.n_aug} augmented copies per training clip; front-end {setup.frontend.name}"
    )
    if leaky:
        log(f"WARNING: {metrics.LEAKY}")


def _cv_line(cfg: RunConfig, cv: metrics.CVResult, per_corpus: dict[str, float]) -> str:
    kind = "RANDOM-SPLIT (leaky)" if cfg.split == "random" else "speaker-independent"
    own = ", ".join(f"{k} (own labels) UA {v:.3f}" for k, v in per_corpus.items())
    return f"{kind} CV: UA {cv.mean_ua:.3f} ± {cv.std_ua:.3f}, WA {cv.mean_wa:.3f}; {own}"


def _log_calibration(calib: calibration.Calibration, log: Log) -> None:
    if calib.ece is None:
        log(f"calibration: {calib.source}; T={calib.temperature:.2f}")
        return
    share = next((s for t, s, _ in calib.curve if t == calib.uncertain_below), float("nan"))
    right = next((r for t, _, r in calib.curve if t == calib.uncertain_below), float("nan"))
    log(
        f"held-out calibration: T={calib.temperature:.2f} (ECE {calib.ece[0]:.3f} -> "
        f"{calib.ece[1]:.3f}), partial T x{calib.partial_temperature:.2f}; uncertain below "
        f"{calib.uncertain_below:.2f}: {share:.0%} of rows shown, {right:.0%} of those right"
    )


def _export(
    setup: Setup,
    report: RunReport,
    ds: dataset.Dataset,
    final: Fitted,
    params: Any,
    recipe: Any,
    gate: Any,
    log: Log,
) -> None:
    """Write the model (and its encoder beside it), with robustness figures in its metadata."""
    cfg, calib = setup.cfg, report.calibration
    meta = model_metadata(setup, ds.labels, params, recipe, gate, **_figures(report, ds))
    with tempfile.TemporaryDirectory() as folder:
        trial = Path(folder) / "model.onnx"
        place_frontend_file(setup, Path(folder), link=True)
        export.save(export.finish(final.to_onnx(), meta, calib.temperature), trial)
        if recipe is not None:
            threshold = calib.uncertain_below if calib.uncertain_below is not None else 0.4
            prep = cfg.prep
            seconds = 5.0 if cfg.smoke else 20.0
            report.non_speech = robustness.non_speech_rows(
                trial, prep.vad, prep.segmenter, threshold, seconds=seconds
            )
            log(f"non-speech: {sum(report.non_speech.rows.values())} rows, "
                f"{report.non_speech.total_confident} confident")
    meta.update(_robustness_metadata(report))
    cfg.output.parent.mkdir(parents=True, exist_ok=True)
    report.frontend_file = place_frontend_file(setup, cfg.output.parent, link=False)
    export.save(export.finish(final.to_onnx(), meta, calib.temperature), cfg.output)
    report.metadata = meta
    report.model_bytes = cfg.output.stat().st_size
    report.inference_ms = measure_inference(cfg.output, repeats=5 if cfg.smoke else 30)
    log(f"wrote {cfg.output} ({report.model_bytes / 1024:.0f} KiB); front-end+model "
        f"{report.inference_ms['total_ms']:.2f} ms per 4 s utterance")


def _figures(report: RunReport, ds: dataset.Dataset) -> dict[str, Any]:
    """Training figures stored in the model (the card shows them too)."""
    cfg, cv, calib = report.config, report.cv, report.calibration
    held = {
        h.test: _held_out_figures(h) for h in report.held_out
    }
    leaky = cfg.split == "random"
    return {
        "cv_method": _cv_method(report, ds),
        "cv_ua_all_corpora": f"{cv.mean_ua:.4f}",
        "cv_ua_per_corpus": {k: round(v, 4) for k, v in report.per_corpus_ua.items()},
        "folds": str(len(cv.folds)),
        "cv_ua_std": f"{cv.std_ua:.4f}",
        "cv_ua_per_fold": [round(f.ua, 4) for f in cv.folds],
        "cv_wa_per_fold": [round(f.wa, 4) for f in cv.folds],
        "cv_recall": dict(zip(ds.labels, [round(r, 4) for r in cv.pooled.recall], strict=True)),
        "cv_confusion": cv.pooled.confusion,
        "cv_ua_augmented_test": f"{cv.augmented_test.ua:.4f}" if cv.augmented_test else "n/a",
        "held_out": held or None,
        "temperature": f"{calib.temperature:.4f}",
        "calibration": calib.source,
        "ece_held_out": f"{calib.ece[1]:.4f}" if calib.ece else None,
        "uncertain_below": f"{calib.uncertain_below:.2f}" if calib.uncertain_below else None,
        "partial_temperature": f"{calib.partial_temperature:.4f}",
        "feature_set": cfg.feature_set,
        "segmenter": cfg.prep.to_dict(),
        "corpora": "+".join(report.n_clips),
        "data": report.data,
        "split": "random (leaky: speakers in training and test)" if leaky else "speaker",
        "seed": str(cfg.seed),
        "n_clips": str(len(ds.clips)),
        "augmented_copies": str(min(cfg.n_aug, 1) if cfg.smoke else cfg.n_aug),
        "smoke": str(cfg.smoke).lower(),
        "cv_ua": f"{cv.mean_ua:.4f}",
        "cv_wa": f"{cv.mean_wa:.4f}",
    }


def _held_out_figures(h: loco.HeldOut) -> dict[str, Any]:
    out: dict[str, Any] = {"trained_on": list(h.train)}
    levels = ["clip"] + (["call"] if h.call is not None else []) + list(h.extra)
    for level in levels:
        four = h.scores(level, loco.FOUR_CLASSES)
        shared = h.scores(level, h.shared)
        out[level] = {
            "ua_4class": round(four.ua, 4) if four else None,
            "ua_shared": round(shared.ua, 4) if shared else None,
            "classes": list(h.shared),
        }
    if h.call is not None:
        out["call"]["covered"] = round(float(h.call.covered.mean()), 4)
        out["call"]["rows"] = h.call.rows
        out["call"]["rows_holding_two_clips"] = h.call.shared_rows
    return out


def _cv_method(report: RunReport, ds: dataset.Dataset) -> str:
    cfg = report.config
    folds = len(report.cv.folds)
    if cfg.split == "random":
        head = f"{folds}-fold StratifiedKFold, RANDOM split (seed {cfg.seed}; {metrics.LEAKY}) on "
    else:
        head = f"{folds}-fold StratifiedGroupKFold by speaker (seed {cfg.seed}) on "
    return head + (
        f"{'+'.join(report.n_clips)}; every corpus (or manifest session) normalised as its own "
        f"stream; corpora weighted equally; temperature from {report.calibration.source}"
    )


def _robustness_metadata(report: RunReport) -> dict[str, str]:
    meta: dict[str, str] = {}
    if report.non_speech is not None:
        meta["non_speech_confident_rows"] = str(report.non_speech.total_confident)
        meta["non_speech_rows"] = json.dumps(report.non_speech.rows)
    if report.gain_flips:
        meta["gain_flips"] = json.dumps(
            {k: {"utterances": v.utterances, **v.shares} for k, v in report.gain_flips.items()}
        )
    return meta


def measure_inference(path: Path, repeats: int = 30) -> dict[str, float]:
    """Median wall time (ms) for front-end + model on a 4 s utterance, on one thread."""
    from streamer.model.classifier import Classifier

    rng = np.random.default_rng(0)
    t = np.arange(4 * features.SAMPLE_RATE) / features.SAMPLE_RATE
    samples = (
        0.1 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
        + 0.01 * rng.standard_normal(len(t))
    ).astype(np.float32)
    clf = Classifier(path)
    clf.predict(samples)  # warm-up
    total, front = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        clf.front_end(samples)
        t1 = time.perf_counter()
        clf.predict(samples)
        t2 = time.perf_counter()
        front.append(t1 - t0)
        total.append(t2 - t1)
    f, a = 1000 * float(np.median(front)), 1000 * float(np.median(total))
    return {
        "features_ms": round(f, 2),
        "model_ms": round(max(a - f, 0.0), 2),
        "total_ms": round(a, 2),
    }

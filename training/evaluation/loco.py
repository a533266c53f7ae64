"""Leave one corpus out: the test of voices, languages and rooms a model never heard.

For every corpus of the run, the same recipe (front-end, model type, stream normaliser, speech
gate) is trained on all the *other* corpora and tested on it twice:

- **clip level**: one vector per clip, the corpus streamed through the normaliser in a seeded
  order from a cold start (what a vector model can do at best);
- **call level**: the corpus's clips joined into long calls and replayed through the streaming
  engine (:mod:`training.evaluation.calls`) — what ``ser-live --input`` would show. This is the
  figure every choice is made by.

The raw (uncalibrated) probabilities of both are kept: the shipped model's temperature and
uncertain threshold are fitted on the pooled call-level predictions (:mod:`.calibration`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from streamer.settings import Settings
from training.data import audio
from training.data.dataset import Dataset, subset_by_corpus
from training.evaluation import calls, metrics
from training.models import streams
from training.models.trainer import Fitted, Trainer, fit_all

FOUR_CLASSES = ("neutral", "happy", "sad", "angry")


@dataclass
class HeldOut:
    """One held-out corpus: the model trained on the others and what it said about this one."""

    test: str
    train: tuple[str, ...]
    labels: tuple[str, ...]  # the model's labels
    y: np.ndarray  # each held-out clip's label as an index into ``labels`` (-1: not among them)
    clip_probs: np.ndarray  # clip level, uncalibrated
    call: calls.CallRows | None = None  # call level, uncalibrated (NaN rows: no row)
    extra: dict[str, calls.CallRows] = field(default_factory=dict)  # degraded calls by name

    def scores(self, level: str, classes: Sequence[str]) -> metrics.Scores | None:
        """UA/WA over ``classes`` (arg-max among them), at "clip" or "call" level; clips no
        row covers count as wrong. None when a class is missing from the model or the corpus."""
        probs = self.clip_probs if level == "clip" else self._call_probs(level)
        return score_classes(self.labels, self.y, probs, classes)

    def _call_probs(self, level: str) -> np.ndarray:
        rows = self.call if level == "call" else self.extra[level]
        assert rows is not None
        return rows.probs

    @property
    def shared(self) -> tuple[str, ...]:
        present = {self.labels[i] for i in self.y if i >= 0}
        return tuple(label for label in self.labels if label in present)


def score_classes(
    labels: Sequence[str], y: np.ndarray, probs: np.ndarray, classes: Sequence[str]
) -> metrics.Scores | None:
    if not all(c in labels for c in classes):
        return None
    columns = [list(labels).index(c) for c in classes]
    keep = np.isin(y, columns)
    if not keep.any() or len({int(v) for v in y[keep]}) < len(classes):
        return None
    sub = probs[keep][:, columns]
    truth = np.array([columns.index(int(v)) for v in y[keep]])
    missing = np.isnan(sub[:, 0])
    pred = np.where(missing, len(classes), np.nan_to_num(sub).argmax(axis=1))  # no row: wrong
    # Rows are the true classes; the last column counts clips that got no row at all.
    cm = metrics.confusion(truth, pred, len(classes) + 1)[: len(classes)]
    recall = metrics.per_class_recall(cm)
    return metrics.Scores(
        ua=float(np.nanmean(recall)),
        wa=metrics.weighted_accuracy(truth, pred),
        recall=[float(r) for r in recall],
        confusion=cm.tolist(),
        n=int(keep.sum()),
    )


@dataclass(frozen=True)
class LocoSetup:
    """What every held-out fit shares."""

    trainer: Trainer
    recipe: streams.StreamRecipe | None
    settings: Settings  # the segmenting and model settings the calls are replayed with
    prep: audio.Preparation
    seed: int
    export: Callable[[Fitted, object, Dataset, Path], Path]  # writes a replayable model file
    plans: dict[str, calls.CallPlan] = field(default_factory=dict)  # degraded calls to run too
    partial_every_s: float = 0.0  # provisional results in the calls (partials calibration)
    cache_dir: Path | None = None  # the calls' segment vectors are cached here


def held_out_fits(
    ds: Dataset, setup: LocoSetup, log: Callable[[str], None]
) -> list[HeldOut]:
    corpora = sorted(set(ds.corpora), key=list(ds.corpora).index)
    if len(corpora) < 2:
        return []
    return [_held_out(ds, corpus, setup, log) for corpus in corpora]


def _held_out(
    ds: Dataset, corpus: str, setup: LocoSetup, log: Callable[[str], None]
) -> HeldOut:
    others = set(ds.corpora) - {corpus}
    train = subset_by_corpus(ds, others)
    test = subset_by_corpus(ds, {corpus})
    model, params = fit_all(setup.trainer, train, setup.recipe)
    y = np.array([train.labels.index(c.label) if c.label in train.labels else -1
                  for c in test.clips])
    vectors = test.vectors
    if setup.recipe is not None and params is not None:
        vectors = streams.normalise(params, setup.recipe, test.vectors, test.sessions)
    held = HeldOut(corpus, tuple(sorted(others)), train.labels, y,
                   model.predict_raw(vectors, test.frames))
    if setup.recipe is not None:  # vector models run in the engine; frame models cannot yet
        _replay_calls(held, model, params, train, test, setup)
    _log(held, log)
    return held


def _replay_calls(
    held: HeldOut, model: Fitted, params: object, train: Dataset, test: Dataset,
    setup: LocoSetup,
) -> None:
    clips = [audio.load(c.path, setup.prep, trim=False) for c in test.clips]
    babble = _babble_maker(clips, setup.seed)
    with tempfile.TemporaryDirectory() as folder:
        path = setup.export(model, params, train, Path(folder))
        from streamer.engine.build import load_model

        classifier = load_model(setup.settings, path)
        if setup.cache_dir is not None:
            from training.data.cache import CachedFrontEnd

            classifier.frontend = CachedFrontEnd(classifier.frontend, setup.cache_dir)
        n = len(train.labels)
        held.call = calls.score_calls(
            classifier, clips, n, setup.settings, calls.CallPlan(), setup.seed,
            setup.partial_every_s,
        )
        for name, plan in setup.plans.items():
            held.extra[name] = calls.score_calls(
                classifier, clips, n, setup.settings, plan, setup.seed, babble=babble
            )


def _babble_maker(clips: list[np.ndarray], seed: int) -> Callable[[int], np.ndarray]:
    """Babble for a call: four clips of the corpus at a time, level-matched and summed."""
    from training.data import augment

    def make(n: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        voices = [clips[int(i)] for i in rng.choice(len(clips), size=min(64, len(clips)))]
        out = np.zeros(n, np.float32)
        for k in range(4):
            track = np.concatenate(voices[k::4]) if voices[k::4] else np.zeros(1, np.float32)
            out += np.resize(track / augment.rms(track), n)
        return out

    return make


def _log(held: HeldOut, log: Callable[[str], None]) -> None:
    parts = []
    for level in ("clip", "call"):
        if level == "call" and held.call is None:
            continue
        four = held.scores(level, FOUR_CLASSES)
        shared = held.scores(level, held.shared)
        parts.append(
            f"{level} 4-class UA {four.ua:.3f}" if four else f"{level} 4-class n/a"
        )
        if shared:
            parts[-1] += f", {len(held.shared)}-class UA {shared.ua:.3f}"
    coverage = "" if held.call is None else f"; {held.call.covered.mean():.1%} of clips got a row"
    log(f"held out {held.test} (trained on {'+'.join(held.train)}): " + "; ".join(parts) + coverage)

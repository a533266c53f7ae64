"""The model-independent training loops: speaker-grouped CV, inner validation, cross-corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import onnx
from sklearn.model_selection import GroupKFold

from streamer.model.normaliser import NormaliserParams
from training.data.dataset import Dataset, TrainData, train_data
from training.evaluation import metrics as evaluate
from training.models import streams


class Fitted(Protocol):
    input_kind: str
    temperature: float
    params: dict[str, Any]

    def predict_raw(self, vectors: np.ndarray, frames: list[np.ndarray] | None) -> np.ndarray:
        """Uncalibrated class probabilities, one row per utterance."""
        ...

    def to_onnx(self) -> onnx.ModelProto:
        """Graph with a ``probabilities`` output (uncalibrated; export adds the temperature)."""
        ...


class Trainer(Protocol):
    name: str
    input_kind: str

    def fit(self, data: TrainData) -> Fitted: ...


def predict(model: Fitted, vectors: np.ndarray, frames: list[np.ndarray] | None) -> np.ndarray:
    return evaluate.apply_temperature(model.predict_raw(vectors, frames), model.temperature)


def inner_splits(data: TrainData, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inner folds over the outer-fold groups of the training rows; validate on originals only."""
    groups = np.unique(data.group)
    n = min(n_splits, len(groups))
    if n < 2:
        raise evaluate.EvaluationError(
            "inner validation needs speakers from two outer folds besides the test fold: "
            "use --folds 3 or more"
        )
    out = []
    for tr, va in GroupKFold(n_splits=n).split(data.vectors, data.y, data.group):
        out.append((tr, va[~data.is_aug[va]]))
    return out


def subset(data: TrainData, rows: np.ndarray) -> TrainData:
    return TrainData(
        vectors=data.vectors[rows],
        frames=[data.frames[i] for i in rows] if data.frames is not None else None,
        y=data.y[rows],
        group=data.group[rows],
        is_aug=data.is_aug[rows],
        n_classes=data.n_classes,
        weight=data.weight[rows] if data.weight is not None else None,
    )


@dataclass
class Prepared:
    """Training rows normalised as streams, and how to normalise anything else the same way."""

    data: TrainData
    params: NormaliserParams | None

    def vectors(
        self, recipe: streams.StreamRecipe | None, vectors: np.ndarray, sessions: np.ndarray
    ) -> np.ndarray:
        if recipe is None or self.params is None:
            return vectors
        return streams.normalise(self.params, recipe, vectors, sessions)


def prepare(
    ds: Dataset, rows: np.ndarray, aug_rows: np.ndarray, recipe: streams.StreamRecipe | None
) -> Prepared:
    """Training rows of ``ds`` (clips ``rows`` and copies ``aug_rows``), each corpus and copy
    variant streamed through the normaliser fitted on the recorded clips among them; every
    corpus weighs the same in the fit."""
    data = train_data(ds, rows, aug_rows)
    sessions = np.concatenate([ds.sessions[rows], ds.aug_sessions[aug_rows]])
    corpus = np.array([str(s).split("/")[0] for s in sessions])
    data.weight = streams.balanced_weights(corpus)
    if recipe is None:
        return Prepared(data, None)
    params = streams.fit_params(recipe, ds.vectors[rows], ds.sessions[rows])
    full = np.concatenate([ds.vectors[rows], ds.aug_vectors[aug_rows]])
    data.vectors = streams.normalise(params, recipe, full, sessions)
    return Prepared(data, params)


@dataclass
class InnerResult:
    """Out-of-fold inner-validation probabilities for one candidate configuration."""

    probs: np.ndarray
    y: np.ndarray
    ua: float


def inner_validate(
    data: TrainData, n_splits: int, fit_predict: Callable[[TrainData, TrainData], np.ndarray]
) -> InnerResult:
    probs, ys = [], []
    for tr, va in inner_splits(data, n_splits):
        val = subset(data, va)
        probs.append(fit_predict(subset(data, tr), val))
        ys.append(val.y)
    p, y = np.concatenate(probs), np.concatenate(ys)
    return InnerResult(p, y, evaluate.unweighted_accuracy(y, p.argmax(1), data.n_classes))


def _frames_of(ds: Dataset, rows: np.ndarray) -> list[np.ndarray] | None:
    return [ds.frames[i] for i in rows] if ds.frames is not None else None


def cross_validate(
    trainer: Trainer,
    ds: Dataset,
    log: Callable[[str], None] = print,
    recipe: streams.StreamRecipe | None = None,
) -> evaluate.CVResult:
    n_folds = int(ds.fold.max()) + 1
    oof = np.zeros((len(ds.clips), ds.n_classes))
    oof_raw = np.zeros_like(oof)
    # Augmented copies of the *test* clips: the same test speakers under simulated live conditions.
    noisy = np.zeros((len(ds.aug_parent), ds.n_classes))
    fold_scores, temperatures = [], []
    for k in range(n_folds):
        s = evaluate.split(ds.fold, ds.aug_parent, k)
        prepared = prepare(ds, s.train, s.train_aug, recipe)
        model = trainer.fit(prepared.data)
        test_vectors = prepared.vectors(recipe, ds.vectors[s.test], ds.sessions[s.test])
        raw = model.predict_raw(test_vectors, _frames_of(ds, s.test))
        oof_raw[s.test] = raw
        oof[s.test] = evaluate.apply_temperature(raw, model.temperature)
        test_aug = np.flatnonzero(ds.fold[ds.aug_parent] == k)
        if len(test_aug):
            aug_frames = [ds.aug_frames[i] for i in test_aug] if ds.aug_frames is not None else None
            aug_vectors = prepared.vectors(
                recipe, ds.aug_vectors[test_aug], ds.aug_sessions[test_aug]
            )
            noisy[test_aug] = predict(model, aug_vectors, aug_frames)
        sc = evaluate.score(ds.y[s.test], oof[s.test], ds.n_classes)
        fold_scores.append(sc)
        temperatures.append(model.temperature)
        log(
            f"fold {k + 1}/{n_folds}: UA {sc.ua:.3f} WA {sc.wa:.3f} "
            f"(T={model.temperature:.2f}, {model.params})"
        )
    return evaluate.CVResult(
        labels=ds.labels,
        folds=fold_scores,
        pooled=evaluate.score(ds.y, oof, ds.n_classes),
        pooled_uncalibrated_ece=evaluate.expected_calibration_error(oof_raw, ds.y),
        fold_speakers=evaluate.fold_speakers(ds.clips, ds.fold),
        temperatures=temperatures,
        oof_probs=oof,
        augmented_test=evaluate.score(ds.y[ds.aug_parent], noisy, ds.n_classes)
        if len(ds.aug_parent)
        else None,
    )


def fit_all(
    trainer: Trainer, ds: Dataset, recipe: streams.StreamRecipe | None = None
) -> tuple[Fitted, NormaliserParams | None]:
    prepared = prepare(ds, np.arange(len(ds.clips)), np.arange(len(ds.aug_parent)), recipe)
    return trainer.fit(prepared.data), prepared.params


FOUR_CLASSES = ("neutral", "happy", "sad", "angry")


@dataclass
class CrossCorpus:
    train: str
    test: str
    classes: tuple[str, ...]
    scores: evaluate.Scores
    four_class: evaluate.Scores | None = None  # arg-max over neutral/happy/sad/angry
    probs: np.ndarray | None = None  # calibrated probabilities, test rows of train labels
    raw_probs: np.ndarray | None = None  # the same before the temperature
    y: np.ndarray | None = None  # their labels as indices into the model's labels


def cross_corpus(
    model: Fitted,
    train: Dataset,
    test: Dataset,
    name: tuple[str, str],
    params: NormaliserParams | None = None,
    recipe: streams.StreamRecipe | None = None,
) -> CrossCorpus:
    """Model trained on all of ``train``, tested on the ``test`` corpus streamed through the
    normaliser as ser-live would stream it, on the shared classes (and on the four basic ones)."""
    vectors = test.vectors
    if recipe is not None and params is not None:
        vectors = streams.normalise(params, recipe, test.vectors, test.sessions)
    known = np.flatnonzero(
        np.isin(test.y, [test.labels.index(c) for c in train.labels if c in test.labels])
    )
    raw = model.predict_raw(vectors[known], _frames_of(test, known))
    probs = evaluate.apply_temperature(raw, model.temperature)
    y_model = np.array([train.labels.index(test.labels[i]) for i in test.y[known]])

    def restricted(classes: tuple[str, ...]) -> evaluate.Scores | None:
        if not all(c in train.labels and c in test.labels for c in classes):
            return None
        keep = np.isin(y_model, [train.labels.index(c) for c in classes])
        sub = evaluate.restrict(probs[keep], [train.labels.index(c) for c in classes])
        y = np.array([classes.index(train.labels[i]) for i in y_model[keep]])
        return evaluate.score(y, sub, len(classes))

    shared = tuple(label for label in train.labels if label in test.labels)
    return CrossCorpus(
        name[0],
        name[1],
        shared,
        restricted(shared),
        restricted(FOUR_CLASSES),
        probs,
        raw,
        y_model,
    )

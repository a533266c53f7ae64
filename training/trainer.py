"""The model-independent training loops: speaker-grouped CV, inner validation, cross-corpus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import onnx
from sklearn.model_selection import GroupKFold

from training import evaluate
from training.dataset import Dataset, TrainData, all_training, train_data


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
        raise evaluate.EvaluationError("inner validation needs speakers from two outer folds")
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
    )


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
    trainer: Trainer, ds: Dataset, log: Callable[[str], None] = print
) -> evaluate.CVResult:
    n_folds = int(ds.fold.max()) + 1
    oof = np.zeros((len(ds.clips), ds.n_classes))
    oof_raw = np.zeros_like(oof)
    # Augmented copies of the *test* clips: the same test speakers under simulated live conditions.
    noisy = np.zeros((len(ds.aug_parent), ds.n_classes))
    fold_scores, temperatures = [], []
    for k in range(n_folds):
        s = evaluate.split(ds.fold, ds.aug_parent, k)
        model = trainer.fit(train_data(ds, s.train, s.train_aug))
        raw = model.predict_raw(ds.vectors[s.test], _frames_of(ds, s.test))
        oof_raw[s.test] = raw
        oof[s.test] = evaluate.apply_temperature(raw, model.temperature)
        test_aug = np.flatnonzero(ds.fold[ds.aug_parent] == k)
        if len(test_aug):
            aug_frames = [ds.aug_frames[i] for i in test_aug] if ds.aug_frames is not None else None
            noisy[test_aug] = predict(model, ds.aug_vectors[test_aug], aug_frames)
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


def fit_all(trainer: Trainer, ds: Dataset) -> Fitted:
    return trainer.fit(all_training(ds))


@dataclass
class CrossCorpus:
    train: str
    test: str
    classes: tuple[str, ...]
    scores: evaluate.Scores


def cross_corpus(
    model: Fitted, train: Dataset, test: Dataset, name: tuple[str, str]
) -> CrossCorpus:
    """Model trained on all of ``train``, tested on ``test`` clips of the shared classes only."""
    shared = tuple(label for label in train.labels if label in test.labels)
    rows = np.flatnonzero(np.isin(test.y, [test.labels.index(c) for c in shared]))
    probs = predict(model, test.vectors[rows], _frames_of(test, rows))
    sub = evaluate.restrict(probs, [train.labels.index(c) for c in shared])
    y = np.array([shared.index(test.labels[i]) for i in test.y[rows]])
    return CrossCorpus(name[0], name[1], shared, evaluate.score(y, sub, len(shared)))

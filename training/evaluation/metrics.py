"""Speaker-independent evaluation: folds grouped by speaker, UA/WA, confusion, calibration.

Rules kept here so every model obeys them:
- a speaker is in exactly one outer fold (StratifiedGroupKFold, fixed seed);
- augmented copies of a clip belong to the fold of their clip and are only ever used for training;
- anything tuned (hyper-parameters, temperature) uses inner folds made of the *other* outer
  folds' speakers, never the test fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from streamer.errors import InputError
from training.data.corpora import Clip


class EvaluationError(InputError, ValueError):
    """Not enough speakers/classes for the requested evaluation."""


def speaker_folds(clips: Sequence[Clip], n_folds: int, seed: int) -> np.ndarray:
    """Outer fold index per clip; every speaker's clips share one fold."""
    speakers = np.array([c.speaker for c in clips])
    n_speakers = len(set(speakers))
    if n_speakers < n_folds:
        raise EvaluationError(
            f"{n_folds} speaker-grouped folds need at least {n_folds} speakers, the data has "
            f"{n_speakers}; give --folds {max(n_speakers, 2)} or record more speakers"
        )
    labels = np.array([c.label for c in clips])
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold = np.full(len(clips), -1, dtype=int)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(clips)), labels, speakers)):
        fold[test] = k
    return fold


SPLITS = ("speaker", "random")
LEAKY = (
    "RANDOM SPLIT: the same speakers are in training and test folds, so these figures are "
    "leaky (what tutorials report), not what the model does on voices it never heard"
)


def random_folds(clips: Sequence[Clip], n_folds: int, seed: int) -> np.ndarray:
    """Outer fold per clip ignoring speakers (stratified by label): the tutorials' random split,
    kept only to show where their figures come from."""
    labels = np.array([c.label for c in clips])
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold = np.full(len(clips), -1, dtype=int)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(clips)), labels)):
        fold[test] = k
    return fold


def check_label_speakers(clips: Sequence[Clip]) -> None:
    """Refuse a label spoken by one speaker only: in speaker-grouped folds its clips are either
    all tested by a model that never saw the label, or never tested at all."""
    speakers: dict[str, set[str]] = {}
    for clip in clips:
        speakers.setdefault(clip.label, set()).add(clip.speaker)
    for label, who in speakers.items():
        if len(who) < 2:
            raise EvaluationError(
                f"label {label!r} comes from one speaker only ({next(iter(who))}); "
                "speaker-independent folds need it from at least two"
            )


def fold_speakers(clips: Sequence[Clip], fold: np.ndarray) -> dict[int, list[str]]:
    out: dict[int, set[str]] = {}
    for clip, k in zip(clips, fold, strict=True):
        out.setdefault(int(k), set()).add(clip.speaker)
    return {k: sorted(v) for k, v in sorted(out.items())}


@dataclass(frozen=True)
class Split:
    """Row indices into the original clips and into the augmented copies."""

    train: np.ndarray
    test: np.ndarray
    train_aug: np.ndarray


def split(fold: np.ndarray, aug_parent: np.ndarray, k: int) -> Split:
    """Fold ``k`` as test; augmented copies follow their parent clip into training only."""
    return Split(
        train=np.flatnonzero(fold != k),
        test=np.flatnonzero(fold == k),
        train_aug=np.flatnonzero(fold[aug_parent] != k) if len(aug_parent) else np.zeros(0, int),
    )


def babble_sources(
    clips: Sequence[Clip], fold: np.ndarray, index: int, seed: int, n: int = 4
) -> list[int]:
    """Clips of *other speakers of the same corpus in the same fold group* to mix as babble
    behind clip ``index``.

    Those speakers are in training exactly when the clip is, in speaker-grouped folds and when a
    whole corpus is held out, so babble never carries a test speaker's voice into training.
    """
    own = clips[index]
    same = [
        j
        for j in np.flatnonzero(fold == fold[index])
        if clips[j].speaker != own.speaker and clips[j].corpus == own.corpus
    ]
    if not same:
        return []
    rng = np.random.default_rng([seed, index])
    return sorted(int(j) for j in rng.choice(same, size=min(n, len(same)), replace=False))


# ---- metrics -------------------------------------------------------------------------------


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows = true class, columns = predicted class (counts)."""
    m = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def per_class_recall(cm: np.ndarray) -> np.ndarray:
    """Recall per true class; NaN for a class with no examples."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)


def unweighted_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """UA: mean recall over the classes present in ``y_true`` (= balanced accuracy)."""
    return float(np.nanmean(per_class_recall(confusion(y_true, y_pred, n_classes))))


def weighted_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """WA: plain accuracy (each utterance counts once)."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE over equal-width confidence bins of the top-class probability."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(ece)


def fit_temperature(
    probs: np.ndarray | Sequence[np.ndarray], y_true: np.ndarray | Sequence[np.ndarray]
) -> float:
    """Temperature T minimising NLL of softmax(log p / T) on held-out predictions. Several sets
    (e.g. held-out corpora with different label sets) may be given as lists; their NLL is summed."""
    if isinstance(probs, np.ndarray):
        probs, y_true = [probs], [y_true]
    sets = [
        (np.log(np.clip(p, 1e-12, 1.0)), np.asarray(y)) for p, y in zip(probs, y_true, strict=True)
    ]
    n = sum(len(y) for _, y in sets)

    def nll(log_t: float) -> float:
        total = 0.0
        for logp, y in sets:
            z = logp / np.exp(log_t)
            z = z - z.max(axis=1, keepdims=True)
            logsm = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            total -= float(logsm[np.arange(len(y)), y].sum())
        return total / n

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Scores:
    ua: float
    wa: float
    recall: list[float]
    confusion: list[list[int]]
    ece: float | None = None
    n: int = 0


def score(y_true: np.ndarray, probs: np.ndarray, n_classes: int) -> Scores:
    y_pred = probs.argmax(axis=1)
    cm = confusion(y_true, y_pred, n_classes)
    return Scores(
        ua=unweighted_accuracy(y_true, y_pred, n_classes),
        wa=weighted_accuracy(y_true, y_pred),
        recall=[float(r) for r in per_class_recall(cm)],
        confusion=cm.tolist(),
        ece=expected_calibration_error(probs, y_true),
        n=len(y_true),
    )


@dataclass
class CVResult:
    labels: tuple[str, ...]
    folds: list[Scores]
    pooled: Scores  # out-of-fold predictions of all folds together
    pooled_uncalibrated_ece: float
    fold_speakers: dict[int, list[str]]
    temperatures: list[float] = field(default_factory=list)
    oof_probs: np.ndarray | None = None
    augmented_test: Scores | None = None  # test folds' augmented copies (simulated live audio)

    @property
    def mean_ua(self) -> float:
        return float(np.mean([f.ua for f in self.folds]))

    @property
    def mean_wa(self) -> float:
        return float(np.mean([f.wa for f in self.folds]))

    @property
    def std_ua(self) -> float:
        return float(np.std([f.ua for f in self.folds]))


def restrict(probs: np.ndarray, columns: Sequence[int]) -> np.ndarray:
    """Probabilities over a subset of classes, renormalised (for cross-corpus tests)."""
    sub = probs[:, list(columns)]
    return sub / np.maximum(sub.sum(axis=1, keepdims=True), 1e-12)

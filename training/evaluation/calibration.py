"""Confidence that means something on voices the model never heard.

Everything here is fitted on the pooled *call-level* leave-one-corpus-out results (each corpus
weighs the same), i.e. on rows ser-live would have shown for calls of corpora the model did not
train on:

- one temperature for the finals (stored in the graph);
- a further temperature for provisional results (stored as ``partial_temperature``): a
  provisional result over the first second of an utterance is more often wrong than the final
  one, and must not claim more than finals do;
- the uncertain threshold: the lowest confidence from which held-out labels are right at least
  ``TARGET_PRECISION`` of the time, so that a label shown as confident means something.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from training.evaluation import metrics
from training.evaluation.loco import HeldOut

TARGET_PRECISION = 0.70
THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.30, 0.96, 0.05), 2))
PARTIAL_MARGIN = 0.05  # provisional p95 confidence may exceed the finals' p95 by at most this


@dataclass
class Calibration:
    source: str  # where the numbers come from, for the card
    temperature: float
    ece: tuple[float, float] | None = None  # before, after the temperature
    partial_temperature: float = 1.0
    partial_p95: tuple[float, float] | None = None  # partial, final confidence p95 (calibrated)
    uncertain_below: float | None = None
    curve: list[tuple[float, float, float]] = field(default_factory=list)  # t, share, right
    per_corpus_curve: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)


def _finals(held: list[HeldOut]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(corpus, raw probabilities, labels) of the rows that covered a clip of a known label."""
    out = []
    for h in held:
        if h.call is None:
            continue
        keep = h.call.covered & (h.y >= 0)
        if keep.any():
            out.append((h.test, h.call.probs[keep], h.y[keep]))
    return out


def _partials(held: list[HeldOut]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(raw probabilities, labels) of the provisional results inside clips of a known label,
    one set per held-out corpus (their models have different label sets)."""
    out = []
    for h in held:
        if h.call is None:
            continue
        probs, ys = [], []
        for rows, y in zip(h.call.partials, h.y, strict=True):
            if y >= 0 and len(rows):
                probs.append(rows)
                ys.append(np.full(len(rows), y))
        if probs:
            out.append((np.concatenate(probs), np.concatenate(ys)))
    return out


def curve(sets: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, float, float]]:
    """(threshold, share of rows at or above it, share of those right), every set weighing
    the same."""
    out = []
    for threshold in THRESHOLDS:
        shares, right, weights = [], [], []
        for probs, y in sets:
            shown = probs.max(axis=1) >= threshold
            shares.append(shown.mean())
            right.append(float((probs.argmax(axis=1) == y)[shown].mean()) if shown.any() else 0)
            weights.append(float(shown.mean()))
        share = float(np.mean(shares))
        precision = float(np.average(right, weights=weights)) if sum(weights) else float("nan")
        out.append((threshold, share, precision))
    return out


def choose_threshold(points: list[tuple[float, float, float]], n_rows: int) -> float:
    """The lowest threshold whose held-out labels are right at least ``TARGET_PRECISION`` of
    the time (over at least 1 % and 10 of the rows); if none gets there, the one whose labels
    are most often right among those keeping at least 5 % of the rows."""
    for threshold, share, right in points:
        if share * n_rows >= 10 and share >= 0.01 and right >= TARGET_PRECISION:
            return threshold
    usable = [(right, threshold) for threshold, share, right in points if share >= 0.05]
    return max(usable)[1] if usable else 0.5


def partial_temperature(
    held: list[HeldOut], temperature: float, finals_p95: float
) -> tuple[float, tuple[float, float] | None]:
    """The extra temperature of provisional results: fitted by likelihood on the held-out
    partials (after the finals' temperature), then raised until their 95th-percentile
    confidence is within ``PARTIAL_MARGIN`` of the finals'."""
    sets = _partials(held)
    if sum(len(y) for _, y in sets) < 20:
        return 1.0, None
    calibrated = [(metrics.apply_temperature(p, temperature), y) for p, y in sets]
    fitted = metrics.fit_temperature([p for p, _ in calibrated], [y for _, y in calibrated])
    extra = max(1.0, fitted)
    while True:
        confidence = np.concatenate(
            [metrics.apply_temperature(p, extra).max(axis=1) for p, _ in calibrated]
        )
        p95 = float(np.percentile(confidence, 95))
        if p95 <= finals_p95 + PARTIAL_MARGIN or extra > 20:
            return extra, (p95, finals_p95)
        extra *= 1.1


def calibrate(held: list[HeldOut], fallback_temperature: float) -> Calibration:
    """Temperature, partial temperature and threshold from the call-level held-out rows; with
    fewer than two corpora there are none, and the inner folds' temperature stands."""
    finals = _finals(held)
    if not finals:
        return Calibration("inner folds (one corpus: no held-out corpus)", fallback_temperature)
    raw = [(p, y) for _, p, y in finals]
    temperature = metrics.fit_temperature([p for p, _ in raw], [y for _, y in raw])
    calibrated = [(metrics.apply_temperature(p, temperature), y) for p, y in raw]
    ece = (
        float(np.mean([metrics.expected_calibration_error(p, y) for p, y in raw])),
        float(np.mean([metrics.expected_calibration_error(p, y) for p, y in calibrated])),
    )
    points = curve(calibrated)
    n_rows = sum(len(y) for _, y in raw)
    finals_p95 = float(np.percentile(np.concatenate([p.max(axis=1) for p, _ in calibrated]), 95))
    extra, p95 = partial_temperature(held, temperature, finals_p95)
    names = [c for c, _, _ in finals]
    return Calibration(
        source="call-level leave-one-corpus-out rows (" + ", ".join(names) + ")",
        temperature=temperature,
        ece=ece,
        partial_temperature=extra,
        partial_p95=p95,
        uncertain_below=choose_threshold(points, n_rows),
        curve=points,
        per_corpus_curve={c: curve([cal]) for c, cal in zip(names, calibrated, strict=True)},
    )

"""Calibration on held-out calls: a temperature, a softer one for provisional results, and the
lowest threshold from which shown labels are right at least 70 % of the time."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation import calibration, calls
from training.evaluation.loco import FOUR_CLASSES, HeldOut, score_classes

LABELS = ("neutral", "happy", "sad", "angry")


def held_out(rng: np.random.Generator, n: int, sharp: float, name: str) -> HeldOut:
    """Clips whose right label gets ``sharp`` extra logit: over-confident raw probabilities."""
    y = rng.integers(0, 4, n)
    logits = rng.normal(0, 1.0, (n, 4)) * 3
    logits[np.arange(n), y] += sharp
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    partials = [np.exp(row * 1.8) / np.exp(row * 1.8).sum() for row in logits]  # sharper still
    rows = calls.CallRows(probs, [p[None, :] for p in partials], rows=n, shared_rows=0)
    return HeldOut(name, ("x",), LABELS, y, probs, rows)


def test_threshold_temperature_and_partials_from_the_held_out_calls() -> None:
    rng = np.random.default_rng(3)
    held = [held_out(rng, 600, 3.0, "a"), held_out(rng, 300, 2.0, "b")]
    calib = calibration.calibrate(held, fallback_temperature=1.0)
    assert calib.temperature > 1.5  # the raw scores were over-confident
    assert calib.ece is not None and calib.ece[1] < calib.ece[0]
    t, share, right = next(p for p in calib.curve if p[0] == calib.uncertain_below)
    assert right >= calibration.TARGET_PRECISION
    lower = [p for p in calib.curve if p[0] < calib.uncertain_below and p[1] * 900 >= 10]
    assert all(r < calibration.TARGET_PRECISION for _, _, r in lower)  # the lowest that does
    assert calib.partial_temperature > 1.0
    partial, final = calib.partial_p95
    assert partial <= final + calibration.PARTIAL_MARGIN  # partials claim no more than finals
    assert set(calib.per_corpus_curve) == {"a", "b"}


def test_one_corpus_keeps_the_inner_temperature_and_no_threshold() -> None:
    calib = calibration.calibrate([], fallback_temperature=1.7)
    assert calib.temperature == 1.7 and calib.uncertain_below is None
    assert "one corpus" in calib.source


def test_a_clip_without_a_row_counts_as_wrong() -> None:
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3])
    probs = np.eye(4)[y].astype(float)
    probs[[1, 5]] = np.nan  # two happy clips got no row
    scores = score_classes(LABELS, y, probs, FOUR_CLASSES)
    assert scores.ua == pytest.approx((1 + 0 + 1 + 1) / 4)
    assert scores.confusion[1] == [0, 0, 0, 0, 2]  # the no-row column
    assert score_classes(LABELS, y, probs, ("neutral", "calm")) is None  # calm not a label

"""Clips joined into calls and the rows that cover them."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from streamer.results import Prediction
from training.evaluation import calls


def row(start: float, end: float, final: bool = True) -> Prediction:
    return Prediction(start, end, datetime(2026, 1, 1, tzinfo=timezone.utc), ("a", "b"),
                      (0.7, 0.3), 0.0, final)


def test_calls_hold_every_clip_once_in_a_seeded_order_with_pauses() -> None:
    audio = [np.full(16000 * (k + 1) // 2, 0.1 * (k + 1), np.float32) for k in range(7)]
    (call,) = calls.make_calls(audio, calls.CallPlan(), seed=5)
    assert sorted(call.clips) == list(range(7)) and call.clips != list(range(7))
    assert np.max(np.abs(call.samples)) == pytest.approx(10 ** (-8 / 20), rel=1e-5)
    for (start, end), index in zip(call.spans, call.clips, strict=True):
        assert end - start == pytest.approx(len(audio[index]) / 16000)
    gaps = [b[0] - a[1] for a, b in zip(call.spans, call.spans[1:], strict=False)]
    assert all(0.8 <= g <= 1.6 for g in gaps)
    again = calls.make_calls(audio, calls.CallPlan(), seed=5)[0]
    assert again.clips == call.clips and np.array_equal(again.samples, call.samples)
    short = calls.make_calls(audio, calls.CallPlan(clips_per_call=3), seed=5)
    assert [len(c.clips) for c in short] == [3, 3, 1]


def test_a_clip_is_scored_by_the_row_covering_most_of_it() -> None:
    rows = [row(0.0, 1.2), row(1.1, 3.0), row(5.0, 5.3), row(8.0, 8.4)]
    assert calls.covering(rows, (1.0, 3.0)) is rows[1]
    assert calls.covering(rows, (4.8, 6.0)) is rows[2]  # a short clip's words inside silence
    assert calls.covering(rows, (7.9, 8.1)) is rows[3]  # half of the clip
    assert calls.covering(rows, (8.3, 9.9)) is None  # a quarter of the row, 6 % of the clip
    assert calls.covering(rows, (3.5, 4.5)) is None  # nothing overlaps
    assert calls._covers_two(row(0.0, 3.0), [(0.0, 1.0), (1.5, 3.0)])
    assert not calls._covers_two(row(0.0, 1.0), [(0.0, 1.0), (1.5, 3.0)])


def test_a_telephone_call_is_band_limited_and_babble_is_at_10_db() -> None:
    rng = np.random.default_rng(0)
    audio = [(0.3 * rng.standard_normal(16000)).astype(np.float32) for _ in range(2)]
    call = calls.make_calls(audio, calls.CallPlan(), seed=1)[0]
    phone = calls.degrade(call, calls.CallPlan(channel="telephone"), None, 0)
    spectrum = np.abs(np.fft.rfft(phone)) ** 2
    freqs = np.fft.rfftfreq(len(phone), 1 / 16000)
    assert spectrum[freqs > 4500].sum() < 0.01 * spectrum[(freqs > 500) & (freqs < 3000)].sum()
    quiet = calls.degrade(call, calls.CallPlan(gain_db=-20.0), None, 0)
    assert np.max(np.abs(quiet)) == pytest.approx(0.1 * np.max(np.abs(call.samples)), rel=1e-4)
    with pytest.raises(ValueError, match="unknown channel"):
        calls.degrade(call, calls.CallPlan(channel="radio"), None, 0)

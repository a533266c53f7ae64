"""22.11: one NaN, an infinity or a 1e30 spike in a float WAV must not make ser-live deaf.

Before: one NaN gave 1 row instead of 7 (exit 0); a 30 ms spike of 1e30 in a 10-minute call gave
8 rows instead of 113. Bad samples are replaced by silence at the source and counted in the
summary; the gain stage and the normaliser stay finite for what reaches them another way (the
Python API).
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from streamer.engine.emotion_stream import EmotionStream
from tests.faults.commands import rows_of, ser_live

UTTERANCES = 7


def timeline(path, tmp_path, name: str) -> tuple[list[dict[str, str]], str]:
    csv_path = tmp_path / f"{name}.csv"
    result = ser_live("--input", path, "--no-ui", "--fast", "--csv", csv_path)
    assert result.returncode == 0, result.stderr
    return rows_of(csv_path), result.stderr


def times(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(r["start_s"], r["end_s"]) for r in rows]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_one_non_finite_sample_costs_nothing(demo_call, tmp_path, bad):
    audio, rate = sf.read(demo_call, dtype="float32")
    clean, _ = timeline(demo_call, tmp_path, "clean")
    assert len(clean) == UTTERANCES
    audio[len(audio) // 3] = bad  # inside the third utterance
    damaged = tmp_path / "damaged.wav"
    sf.write(damaged, audio, rate, subtype="FLOAT")
    rows, stderr = timeline(damaged, tmp_path, "damaged")
    assert times(rows) == times(clean)
    assert "1 bad sample (NaN, infinite or beyond +60 dBFS) replaced by silence" in stderr


def test_a_spike_of_1e30_in_a_long_call_gives_the_clean_calls_rows(demo_call, tmp_path):
    audio, rate = sf.read(demo_call, dtype="float32")
    long_call = np.tile(audio, 4)  # 2.5 minutes, 27 utterances (two lines meet at a seam)
    clean_path = tmp_path / "long.wav"
    sf.write(clean_path, long_call, rate, subtype="FLOAT")
    clean, _ = timeline(clean_path, tmp_path, "clean")
    assert len(clean) > 3 * UTTERANCES
    spiked = long_call.copy()
    start = int(18.9 * rate)  # in the pause before the fifth line: minutes of call follow
    spiked[start : start + int(0.030 * rate)] = 1e30
    spiked_path = tmp_path / "spiked.wav"
    sf.write(spiked_path, spiked, rate, subtype="FLOAT")
    rows, stderr = timeline(spiked_path, tmp_path, "spiked")
    assert rows == [{**r, "wall_time": s["wall_time"]} for r, s in zip(clean, rows, strict=True)]
    assert f"{int(0.030 * rate)} bad samples" in stderr


def test_the_api_survives_a_nan_fed_to_it(demo_call):
    """No source between the caller and the stream: the resampler, gain stage and normaliser
    must themselves recover (before: 3 of 7 utterances, then silence)."""
    audio, rate = sf.read(demo_call, dtype="float32")
    audio[len(audio) // 3] = np.nan
    stream = EmotionStream(sample_rate_hz=rate, partial_every_s=0)
    finals = []
    for at in range(0, len(audio), 4096):
        finals += stream.feed(audio[at : at + 4096])
    finals += stream.finish()
    assert len([p for p in finals if p.final]) == UTTERANCES
    assert all(np.isfinite(p.probabilities).all() for p in finals)

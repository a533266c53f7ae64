"""Awkward inputs give finite features of the right shape: silence, clipping, DC offset,
full-scale noise, very short and empty input, non-finite samples, other dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from streamer import features
from tests.features import signals

N_FRAME = len(features.FRAME_FEATURE_NAMES)
N_VECTOR = len(features.FEATURE_NAMES)


def check(y: np.ndarray) -> features.Features:
    out = features.extract(y)
    n_frames = 1 + np.asarray(y).reshape(-1).size // features.DEFAULT_CONFIG.hop_length
    assert out.frames.shape == (n_frames, N_FRAME)
    assert out.vector.shape == (N_VECTOR,)
    assert out.frames.dtype == np.float32 and out.vector.dtype == np.float32
    assert np.isfinite(out.frames).all(), "non-finite frame features"
    assert np.isfinite(out.vector).all(), "non-finite functionals"
    return out


def loud_speech(seconds: float = 1.0) -> np.ndarray:
    return signals.speech_like(seconds) * 3.0


CASES = {
    "silence": lambda: np.zeros(16000, np.float32),
    "tiny noise floor": lambda: signals.white_noise(1.0, 1e-7),
    "full-scale noise": lambda: np.random.default_rng(0).uniform(-1, 1, 16000).astype(np.float32),
    "full-scale square wave": lambda: np.sign(signals.tone(200.0, 1.0)).astype(np.float32),
    "hard clipping": lambda: np.clip(loud_speech() * 10, -1, 1),
    "dc offset": lambda: signals.speech_like(1.0) + 0.5,
    "dc only": lambda: np.full(16000, 0.3, np.float32),
    "impulse": lambda: np.eye(1, 16000, 8000, dtype=np.float32)[0],
    "0.25 s utterance": lambda: signals.speech_like(0.25),
    "one frame": lambda: signals.speech_like(0.01),
}


@pytest.mark.parametrize("name", list(CASES))
def test_awkward_signals_give_finite_features(name):
    check(CASES[name]())


@pytest.mark.parametrize("n", [0, 1, 2, 159, 160, 161, 399, 400, 401, 4000])
def test_any_length_works(n):
    check(signals.speech_like(1.0)[:n])


def test_non_finite_samples_are_neutralised():
    y = signals.speech_like(0.5)
    y[100], y[2000], y[3000] = np.nan, np.inf, -np.inf
    check(y)


@pytest.mark.parametrize("dtype", [np.float64, np.int16])
def test_other_dtypes_and_shapes_are_accepted(dtype):
    y = (signals.speech_like(0.5) * (30000 if dtype is np.int16 else 1)).astype(dtype)
    check(y)
    check(y.reshape(-1, 1))  # a (n, 1) mono block


def test_silence_reads_as_silence():
    frames = check(np.zeros(8000, np.float32)).frames
    assert np.all(signals.column(frames, "voiced") == 0)
    assert np.all(signals.column(frames, "rms_db") <= -99.9)
    assert np.all(signals.column(frames, "zcr") == 0)


def test_dc_offset_does_not_change_the_features():
    """The utterance mean is removed first, so a constant offset cancels."""
    y = signals.speech_like(1.0)
    clean, offset = features.extract(y), features.extract(y + np.float32(0.25))
    np.testing.assert_allclose(offset.frames, clean.frames, rtol=1e-3, atol=2e-3)
    np.testing.assert_allclose(offset.vector, clean.vector, rtol=1e-3, atol=2e-3)


def test_input_is_not_modified():
    y = signals.speech_like(0.5) + 0.1
    copy = y.copy()
    features.extract(y)
    np.testing.assert_array_equal(y, copy)

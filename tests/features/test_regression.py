"""Frozen numbers: the utterance vector of a fixed synthetic signal must not drift.

The shipped model was trained on these features (FEATURE_VERSION "3"), so speed work may change
floating-point rounding but not the values. ``tests/features/reference_vector.npy`` holds the
vector of ``reference_signal()`` as computed by the v3 extractor; regenerate it only together
with a FEATURE_VERSION bump (``python -m tests.test_features_regression``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamer import features

REFERENCE = Path(__file__).parent / "reference_vector.npy"
SR = features.SAMPLE_RATE


def reference_signal() -> np.ndarray:
    """2 s, deterministic: a voiced glide with vibrato and syllable envelope, a silent gap, a
    noise burst, a clipped vowel and a DC offset (every descriptor family gets exercised)."""
    t = np.arange(2 * SR) / SR
    f0 = 110.0 * 2.0 ** (t / 2.0) * 2.0 ** (0.02 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 25))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 3.0 * t))
    y = 0.2 * voice * envelope
    noise = np.random.default_rng(1234).random(t.size) - 0.5  # uniform: a stable stream
    y[int(0.6 * SR) : int(0.8 * SR)] = 0.0  # silence
    burst = slice(int(1.0 * SR), int(1.2 * SR))
    y[burst] = 0.3 * noise[burst]
    y[int(1.5 * SR) :] = np.clip(3.0 * y[int(1.5 * SR) :], -0.4, 0.4)
    return (y + 0.01 * noise + 0.05).astype(np.float32)


def test_vector_matches_the_frozen_reference():
    assert features.FEATURE_VERSION == "3", "new version: regenerate the reference vector"
    expected = np.load(REFERENCE)
    got = features.extract(reference_signal()).vector
    assert got.shape == expected.shape == (len(features.FEATURE_NAMES),)
    bad = ~np.isclose(got, expected, rtol=1e-4, atol=1e-4)
    names = [features.FEATURE_NAMES[i] for i in np.flatnonzero(bad)[:10]]
    assert not bad.any(), f"{int(bad.sum())} features drifted from the v3 reference: {names}"


def test_frames_agree_with_the_vector():
    # The vector's per-column means are the frame matrix's: a frame-level change shows up too.
    out = features.extract(reference_signal())
    means = np.load(REFERENCE)[0 : 7 * out.frames.shape[1] : 7]
    np.testing.assert_allclose(out.frames.mean(axis=0), means, rtol=1e-4, atol=1e-4)


if __name__ == "__main__":  # regenerate (only with a FEATURE_VERSION bump)
    np.save(REFERENCE, features.extract(reference_signal()).vector)
    print(f"wrote {REFERENCE}")

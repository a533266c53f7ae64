"""Augmentation: shapes, determinism, the SNR it promises, and no NaN on silence."""

from __future__ import annotations

import numpy as np
import pytest

from training.data import augment


@pytest.fixture
def speechy() -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    voiced = np.sin(2 * np.pi * 150 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return (0.2 * voiced + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


def test_add_noise_hits_the_requested_snr(speechy: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    for make in (augment.white_noise, augment.pink_noise, augment.hum):
        noise = make(len(speechy), rng)
        mixed = augment.add_noise(speechy, noise, 10.0)
        snr = 20 * np.log10(augment.rms(speechy) / augment.rms(mixed - speechy))
        assert snr == pytest.approx(10.0, abs=0.05)


def test_chain_is_deterministic_finite_and_bounded(speechy: np.ndarray) -> None:
    sources = [speechy[::-1].copy(), np.roll(speechy, 5000)]
    outs = []
    for _ in range(2):
        rng = np.random.default_rng(42)
        outs.append([augment.augment(speechy, rng, sources) for _ in range(12)])
    for a, b in zip(*outs, strict=True):
        assert np.array_equal(a, b)
        assert a.dtype == np.float32 and np.isfinite(a).all() and np.abs(a).max() <= 1.0
        assert 0.85 * len(speechy) <= len(a) <= 1.15 * len(speechy)  # speed perturbation only


def test_pitch_shift_keeps_length_and_moves_pitch(speechy: np.ndarray) -> None:
    t = np.arange(16000) / 16000
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    up = augment.pitch_shift(tone, 12.0)  # one octave
    assert len(up) == len(tone)
    spectrum = np.abs(np.fft.rfft(up[2000:-2000]))
    peak_hz = np.argmax(spectrum) * 16000 / len(up[2000:-2000])
    assert peak_hz == pytest.approx(400, rel=0.05)


def test_silence_and_babble_without_sources_do_not_fail() -> None:
    rng = np.random.default_rng(3)
    quiet = np.zeros(8000, dtype=np.float32)
    for _ in range(10):
        assert np.isfinite(augment.augment(quiet, rng)).all()
    assert len(augment.babble(1000, [], rng)) == 1000


def test_telephone_removes_low_and_high_frequencies() -> None:
    t = np.arange(16000) / 16000
    low = np.sin(2 * np.pi * 80 * t).astype(np.float32)
    high = np.sin(2 * np.pi * 6000 * t).astype(np.float32)
    mid = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    assert augment.rms(augment.telephone(low)[4000:]) < 0.05 * augment.rms(low)
    assert augment.rms(augment.telephone(high)[4000:]) < 0.05 * augment.rms(high)
    assert augment.rms(augment.telephone(mid)[4000:]) > 0.8 * augment.rms(mid)

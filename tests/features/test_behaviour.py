"""Descriptors against known answers on signals built for them."""

from __future__ import annotations

import numpy as np
import pytest

from streamer import features
from tests.features import signals

SR = features.SAMPLE_RATE
INNER = slice(3, -3)  # frames whose window lies inside the signal


def frames_of(y: np.ndarray) -> np.ndarray:
    return features.frame_features(y)[INNER]


def col(y: np.ndarray, name: str) -> np.ndarray:
    return signals.column(frames_of(y), name)


@pytest.mark.parametrize("freq", [440.0, 1000.0, 3000.0])
def test_centroid_of_a_pure_tone_is_its_frequency(freq):
    np.testing.assert_allclose(col(signals.tone(freq), "centroid_hz"), freq, rtol=0.01)


def test_bandwidth_orders_tone_below_noise():
    assert col(signals.tone(1000.0), "bandwidth_hz").max() < 100
    assert col(signals.white_noise(1.0), "bandwidth_hz").min() > 1500


def test_rolloff_of_a_pure_tone_is_next_to_it():
    rolloff = col(signals.tone(1000.0), "rolloff_hz")
    assert np.all(np.abs(rolloff - 1000.0) <= SR / features.DEFAULT_CONFIG.n_fft)


def test_rms_of_a_sine_is_amplitude_over_root_two():
    rms_db = col(signals.tone(300.0, amplitude=0.5), "rms_db")
    np.testing.assert_allclose(rms_db, 20 * np.log10(0.5 / np.sqrt(2)), atol=0.05)


def test_zero_crossing_rate_of_a_sine_is_twice_its_frequency():
    freq = 500.0
    np.testing.assert_allclose(col(signals.tone(freq), "zcr"), 2 * freq / SR, atol=1.5 / 400)


def test_flatness_separates_noise_from_tone():
    assert np.median(col(signals.white_noise(1.0), "flatness")) > 0.4
    assert np.median(col(signals.tone(1000.0), "flatness")) < 0.01


def test_chroma_of_a440_peaks_at_a():
    chroma = signals.block(frames_of(signals.tone(440.0)), "chroma", 12)
    assert np.all(np.argmax(chroma, axis=1) == 9)  # C C# D D# E F F# G G# A A# B
    np.testing.assert_allclose(chroma.max(axis=1), 1.0)


def test_flux_is_zero_for_a_steady_tone_and_positive_at_an_onset():
    y = np.concatenate([np.zeros(8000, np.float32), signals.tone(500.0, 0.5)])
    flux = signals.column(features.frame_features(y), "flux")
    onset = 8000 // 160
    assert flux[onset - 2 : onset + 3].max() > 10
    assert np.all(flux[onset + 5 : -5] < 0.1)


def test_contrast_is_high_for_harmonics_low_for_noise():
    voice, _ = signals.harmonic(200.0, 1.0)
    noise = signals.white_noise(1.0)
    contrast_voice = signals.block(frames_of(voice), "contrast", 7)[:, 1:4].mean()
    contrast_noise = signals.block(frames_of(noise), "contrast", 7)[:, 1:4].mean()
    assert contrast_voice > contrast_noise + 20


def test_mfcc_0_follows_level():
    quiet = signals.block(frames_of(signals.white_noise(1.0, 0.01)), "mfcc", 1).mean()
    loud = signals.block(frames_of(signals.white_noise(1.0, 0.1)), "mfcc", 1).mean()
    # +20 dB on every band adds 20 * sqrt(n_mels) to the orthonormal c0.
    assert loud - quiet == pytest.approx(20 * np.sqrt(features.DEFAULT_CONFIG.n_mels), rel=0.01)


def test_deltas_of_a_level_ramp():
    """A steady dB ramp: constant delta of c0, zero delta-delta."""
    t = signals.times(2.0)
    y = signals.white_noise(2.0, 1.0) * (10 ** ((-50 + 20 * t) / 20)).astype(np.float32)
    frames = frames_of(y)
    step = 20 / 100 * np.sqrt(features.DEFAULT_CONFIG.n_mels)  # dB per frame, on c0
    d0 = signals.block(frames, "mfcc_d", 1)[5:-5]
    dd0 = signals.block(frames, "mfcc_dd", 1)[5:-5]
    assert np.mean(d0) == pytest.approx(step, rel=0.03)  # per-frame noise averages out
    assert np.abs(np.mean(dd0)) < 0.03 * step


def test_loudness_grows_with_level():
    y = signals.speech_like(1.0)
    soft, loud = col(y * 0.1, "loudness").mean(), col(y, "loudness").mean()
    assert loud > soft * 1.5


def test_alpha_ratio_and_hammarberg_follow_spectral_tilt():
    dark = signals.tone(300.0) + 0.05 * signals.tone(3000.0)
    bright = 0.05 * signals.tone(300.0) + signals.tone(3000.0)
    for name in ("alpha_ratio_db", "hammarberg_db"):
        assert col(dark, name).mean() > 20
        assert col(bright, name).mean() < -20


def test_spectral_slope_of_pink_noise_is_steeper_than_white():
    rng = np.random.default_rng(2)
    spectrum = np.fft.rfft(rng.standard_normal(SR))
    freqs = np.fft.rfftfreq(SR, 1 / SR)
    pink = np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, 20.0))).astype(np.float32)
    pink *= 0.1 / pink.std()
    white = signals.white_noise(1.0)
    for name in ("slope_500_1500",):
        assert np.median(col(pink, name)) < np.median(col(white, name)) - 1.0


def test_hnr_high_for_a_tone_low_for_noise_and_falls_with_added_noise():
    voice, _ = signals.harmonic(150.0, 1.0)
    assert np.median(col(voice, "hnr_db")) > 20
    assert np.median(col(signals.white_noise(1.0), "hnr_db")) < 0
    levels = [np.median(col(voice + signals.white_noise(1.0, a, seed=9), "hnr_db"))
              for a in (0.01, 0.03, 0.1)]
    assert levels[0] > levels[1] > levels[2]
    assert np.median(col(np.zeros(16000, np.float32), "hnr_db")) == -40.0


def test_jitter_grows_with_period_perturbation():
    """Pulse trains at 125 Hz: exact periods vs. periods perturbed by +-3 %."""
    rng = np.random.default_rng(7)

    def pulses(jitter: float) -> np.ndarray:
        periods = 128 * (1 + jitter * rng.uniform(-1, 1, 200))
        starts = np.cumsum(periods).astype(int)
        y = np.zeros(SR, np.float32)
        starts = starts[starts < SR - 64]
        y[starts] = 0.5
        return np.convolve(y, np.hanning(31), mode="same").astype(np.float32)

    steady = col(pulses(0.0), "jitter")
    shaky = col(pulses(0.03), "jitter")
    assert np.median(shaky[shaky > 0]) > 3 * max(np.median(steady), 1e-4)


def test_shimmer_grows_with_amplitude_perturbation():
    voice, _ = signals.harmonic(150.0, 2.0)
    rng = np.random.default_rng(8)
    gains = np.repeat(10 ** (rng.uniform(-3, 3, 200) / 20), SR * 2 // 200).astype(np.float32)
    steady = col(voice, "shimmer_db")
    shaky = col(voice * gains, "shimmer_db")
    assert np.median(shaky) > 0.5
    assert np.median(steady) < 0.05

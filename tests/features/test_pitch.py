"""F0 and voicing: synthetic tones, glides and vibrato (error in cents), noise and silence, and
real speech against librosa's pyin."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
from tools import require_module

from streamer import features
from tests.features import signals

STRIDES = [1, 2]  # every frame, and every other frame (the default) with interpolation


def track(y: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F0 (Hz), voiced mask and the true-F0 sample index of every frame away from the edges."""
    cfg = dataclasses.replace(features.DEFAULT_CONFIG, pitch_stride=stride)
    f0, voiced = signals.f0_hz(features.frame_features(y, cfg))
    centres = signals.frame_centres(f0.size)
    inner = (centres >= 800) & (centres < y.size - 800)  # frames fully inside the signal
    return f0[inner], voiced[inner], centres[inner]


@pytest.mark.parametrize("stride", STRIDES)
@pytest.mark.parametrize("f0", [70.0, 100.0, 220.0, 330.0, 450.0])
def test_steady_harmonic_tone_within_three_cents(f0, stride):
    y, _ = signals.harmonic(f0, 1.0)
    estimate, voiced, _ = track(y, stride)
    assert voiced.all()
    assert np.max(np.abs(signals.cents(estimate, f0))) < 3.0


@pytest.mark.parametrize("stride", STRIDES)
def test_pure_sine_220_hz(stride):
    estimate, voiced, _ = track(signals.tone(220.0, 1.0), stride)
    assert voiced.all()
    assert np.max(np.abs(signals.cents(estimate, 220.0))) < 2.0


@pytest.mark.parametrize("stride", STRIDES)
def test_glide_is_followed(stride):
    """120 -> 360 Hz in one second (1.6 octaves/s, fast for speech)."""
    y, truth = signals.glide(120.0, 360.0, 1.0)
    estimate, voiced, centres = track(y, stride)
    assert voiced.all()
    error = np.abs(signals.cents(estimate, truth[centres]))
    assert np.median(error) < 6.0
    assert error.max() < 15.0


@pytest.mark.parametrize("stride", STRIDES)
def test_vibrato_is_followed(stride):
    """200 Hz with +-50 cents vibrato at 5.5 Hz: the contour, not its average, is tracked."""
    y, truth = signals.vibrato(200.0, 50.0, 5.5, 1.5)
    estimate, voiced, centres = track(y, stride)
    assert voiced.all()
    error = np.abs(signals.cents(estimate, truth[centres]))
    assert np.median(error) < 6.0
    assert error.max() < 15.0
    swing = signals.cents(estimate, 200.0)
    assert swing.max() > 40 and swing.min() < -40


@pytest.mark.parametrize("stride", STRIDES)
def test_tone_in_noise_is_still_voiced_and_accurate(stride):
    y, _ = signals.harmonic(150.0, 1.0)
    estimate, voiced, _ = track(y + signals.white_noise(1.0, 0.03, seed=3), stride)
    assert voiced.mean() > 0.95
    assert np.median(np.abs(signals.cents(estimate[voiced], 150.0))) < 3.0


@pytest.mark.parametrize("stride", STRIDES)
def test_noise_and_silence_are_unvoiced(stride):
    for y in (signals.white_noise(1.0, 0.5, seed=4), np.zeros(16000, np.float32)):
        estimate, voiced, _ = track(y, stride)
        assert voiced.mean() < 0.02
        assert np.all(estimate[~voiced] == 0)


def test_octave_jump_is_tracked_without_smearing():
    """Two tones an octave apart: every frame well inside each half reads its own F0."""
    low, _ = signals.harmonic(110.0, 0.5)
    high, _ = signals.harmonic(220.0, 0.5)
    estimate, voiced, centres = track(np.concatenate([low, high]), 2)
    boundary = low.size
    far = np.abs(centres - boundary) > 800
    truth = np.where(centres < boundary, 110.0, 220.0)
    assert voiced[far].all()
    assert np.max(np.abs(signals.cents(estimate[far], truth[far]))) < 5.0


def _pyin_clips(root: Path, count: int) -> list[Path]:
    clips = sorted(root.glob("*.flac"))
    return clips[:: max(1, len(clips) // count)][:count]


def test_speech_f0_agrees_with_pyin(emodb_dir, ravdess_dir):
    """Frames both call voiced: median error within a quarter tone, few gross (>20 %) errors,
    and the voicing decisions agree on most audible frames. Short clips keep pyin quick."""
    librosa = require_module("librosa", "train")
    import soundfile

    clips = _pyin_clips(emodb_dir, 3) + _pyin_clips(ravdess_dir / "Actor_01", 2)
    errors, agreement = [], []
    for path in clips:
        y, rate = soundfile.read(path, dtype="float32")
        y = y[: 2 * rate]
        frames = features.frame_features(y)
        ours, voiced = signals.f0_hz(frames)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference, ref_voiced, _ = librosa.pyin(
                y, fmin=60, fmax=600, sr=rate, frame_length=1024, hop_length=160, center=True
            )
        n = min(ours.size, reference.size)
        audible = signals.column(frames, "rms_db")[:n] > -60  # pyin also "voices" silence
        both = voiced[:n] & ref_voiced[:n]
        errors.append(signals.cents(ours[:n][both], reference[:n][both]))
        agreement.append(voiced[:n][audible] == (ref_voiced[:n] & audible)[audible])
    error = np.abs(np.concatenate(errors))
    assert error.size > 200
    assert np.median(error) < 30.0
    assert np.mean(error > 316) < 0.05  # gross pitch error: more than 20 % off
    assert np.mean(np.concatenate(agreement)) > 0.7  # pyin voices more liberally (HMM)

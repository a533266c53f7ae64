"""Gain staging ahead of the VAD: the cuts do not move with input level."""

import numpy as np
import pytest
from synth import speech_and_silence

from streamer.settings import load_settings
from streamer.speech.gain import GainSettings, VadGain
from streamer.speech.segmenter import Segmenter
from streamer.speech.vad import vad_from_settings

SR = 16000
PATTERN = [("silence", 0.6), ("speech", 1.4), ("silence", 0.9), ("speech", 0.9),
           ("silence", 1.1), ("speech", 2.2), ("silence", 0.9), ("speech", 0.7),
           ("silence", 0.8)]


def cuts(samples: np.ndarray, gain_staging: bool) -> list[tuple[float, float]]:
    import dataclasses

    settings = load_settings()
    vad = dataclasses.replace(settings.vad, gain_staging=gain_staging)
    segmenter = Segmenter(vad_from_settings(SR, vad), settings.segmenter)
    utterances = segmenter.feed(samples) + segmenter.flush()
    return [(round(u.start_s, 2), round(u.end_s, 2)) for u in utterances]


@pytest.mark.parametrize("gain_db", [-20.0, -6.0, 6.0])
def test_same_cuts_at_another_input_gain(gain_db):
    audio, _ = speech_and_silence(PATTERN)
    audio = audio * np.float32(0.4)  # peak -14 dBFS: +6 dB does not clip
    reference = cuts(audio, gain_staging=True)
    assert len(reference) == 4
    scaled = (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    assert cuts(scaled, gain_staging=True) == reference


def test_without_gain_staging_a_quiet_copy_is_cut_differently():
    """The defect gain staging fixes (guards the test above against passing vacuously)."""
    audio, _ = speech_and_silence(PATTERN)
    audio = audio * np.float32(0.4)
    quiet = (audio * np.float32(10 ** (-30 / 20))).astype(np.float32)
    assert cuts(quiet, gain_staging=False) != cuts(audio, gain_staging=False)
    assert cuts(quiet, gain_staging=True) == cuts(audio, gain_staging=True)


def test_tracker_attacks_at_once_releases_slowly_and_keeps_a_floor():
    settings = GainSettings(target_dbfs=-20.0, floor_dbfs=-60.0, release_db_per_s=1.0)
    gain = VadGain(settings, frame_s=0.03)
    loud = np.full((1, 480), 10 ** (-10 / 20), np.float32)  # -10 dBFS
    out = gain.apply(loud)
    assert gain.level_dbfs == pytest.approx(-10.0, abs=0.01)
    assert 20 * np.log10(np.sqrt(np.mean(out**2))) == pytest.approx(-20.0, abs=0.01)
    gain.apply(np.zeros((100, 480), np.float32))  # 3 s of digital silence
    assert gain.level_dbfs == pytest.approx(-13.0, abs=0.01)
    gain.apply(np.zeros((10_000, 480), np.float32))
    assert gain.level_dbfs == -60.0
    gain.reset()
    assert gain.level_dbfs == -60.0
    gain.prime(-25.0)  # as if speech at -25 dBFS had just been heard
    out = gain.apply(np.full((1, 480), 10 ** (-45 / 20), np.float32))  # a quiet frame after it
    assert 20 * np.log10(np.sqrt(np.mean(out**2))) == pytest.approx(-40.0, abs=0.05)


def test_chunking_does_not_change_the_gains(rng):
    settings = GainSettings(-20.0, -60.0, 1.0)
    frames = (rng.standard_normal((200, 480)) * np.geomspace(1e-3, 0.5, 200)[:, None]).astype(
        np.float32
    )
    whole = VadGain(settings, 0.03).apply(frames)
    chunked_gain = VadGain(settings, 0.03)
    chunked = np.vstack([chunked_gain.apply(frames[i : i + 7]) for i in range(0, 200, 7)])
    assert np.allclose(whole, chunked, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e30])
def test_bad_frames_leave_the_stage_finite_and_cost_at_most_a_release_from_full_scale(bad):
    """Issue 22.11: one NaN made the tracked level NaN for good, one 1e30 frame held it 600 dB
    up (a deaf VAD for ten minutes)."""
    settings = GainSettings(target_dbfs=-20.0, floor_dbfs=-60.0, release_db_per_s=1.0)
    gain = VadGain(settings, frame_s=0.03)
    speech = np.full((10, 480), 10 ** (-20 / 20), np.float32)
    gain.apply(speech)
    frames = speech.copy()
    frames[5, 100] = bad
    out = gain.apply(frames)
    assert np.isfinite(out).all()
    assert np.isfinite(gain.level_dbfs) and gain.level_dbfs <= 0.0  # never above full scale
    gain.apply(np.zeros((int(20 / 0.03) + 1, 480), np.float32))  # 20 s: full scale to -20 dBFS
    later = gain.apply(speech)
    assert 20 * np.log10(np.sqrt(np.mean(later[-1] ** 2))) == pytest.approx(-20.0, abs=0.1)


def test_priming_with_a_level_that_is_not_finite_starts_from_the_floor():
    gain = VadGain(GainSettings(-20.0, -60.0, 1.0), frame_s=0.03)
    gain.prime(float("nan"))
    assert gain.level_dbfs == -60.0

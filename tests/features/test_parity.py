"""Parity with librosa at matching parameters for the descriptors both compute.

Matching parameters: 16 kHz, n_fft = win_length = 400 (periodic Hann), hop 160, centred frames
with zero padding, Slaney mel (40 bands, 0-8 kHz, Slaney norm), dB log-mel without top_db,
orthonormal DCT-II, Savitzky-Golay deltas (width 5, edge repeat), chroma with tuning 0.
``remove_dc`` is switched off because librosa does not subtract the mean.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from tools import require_module

from streamer import features
from tests.features import signals

librosa = require_module("librosa", "train")

CFG = dataclasses.replace(features.DEFAULT_CONFIG, remove_dc=False)
SR = features.SAMPLE_RATE
STFT = {"n_fft": CFG.n_fft, "hop_length": CFG.hop_length, "win_length": CFG.win_length}


@pytest.fixture(scope="module", params=["synthetic", "speech"])
def case(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    """Our frame matrix and librosa's spectrogram for one signal."""
    if request.param == "synthetic":
        y = signals.speech_like(1.5)
    else:
        emodb = request.getfixturevalue("emodb_dir")
        import soundfile

        y, rate = soundfile.read(sorted(emodb.glob("*.flac"))[0], dtype="float32")
        assert rate == SR
    stft = librosa.stft(y, **STFT, window="hann", center=True, pad_mode="constant")
    magnitude = np.abs(stft)
    mel = librosa.feature.melspectrogram(
        S=magnitude**2, sr=SR, n_mels=CFG.n_mels, fmin=CFG.fmin_hz, fmax=CFG.fmax_hz,
        htk=False, norm="slaney",
    )
    return {
        "y": y,
        "frames": features.frame_features(y, CFG),
        "magnitude": magnitude,
        "log_mel": librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None),
    }


def test_frame_count_matches_librosa(case):
    assert case["frames"].shape[0] == case["magnitude"].shape[1]


def test_log_mel(case):
    ours = signals.block(case["frames"], "logmel_db", CFG.n_mels)
    np.testing.assert_allclose(ours, case["log_mel"].T, rtol=0, atol=2e-3)  # dB


def test_mfcc_and_deltas(case):
    frames = case["frames"]
    mfcc = librosa.feature.mfcc(S=case["log_mel"], n_mfcc=CFG.n_mfcc)
    np.testing.assert_allclose(signals.block(frames, "mfcc", CFG.n_mfcc), mfcc.T, atol=2e-3)
    for order, prefix in ((1, "mfcc_d"), (2, "mfcc_dd")):
        expected = librosa.feature.delta(mfcc, width=CFG.delta_width, order=order, mode="nearest")
        np.testing.assert_allclose(
            signals.block(frames, prefix, CFG.n_mfcc), expected.T, atol=1e-3
        )


def test_rms(case):
    expected = librosa.feature.rms(
        y=case["y"], frame_length=CFG.win_length, hop_length=CFG.hop_length, center=True
    )[0]
    ours = 10 ** (signals.column(case["frames"], "rms_db") / 20)
    audible = expected > 1e-4  # below, our column sits at its -100 dB floor
    assert audible.mean() > 0.5
    np.testing.assert_allclose(ours[audible], expected[audible], rtol=1e-5)


def test_zero_crossing_rate(case):
    expected = librosa.feature.zero_crossing_rate(
        case["y"], frame_length=CFG.win_length, hop_length=CFG.hop_length, center=True
    )[0]
    # librosa pads this one with edge values, we pad with zeros: compare whole-window frames.
    inner = slice(2, -3)
    np.testing.assert_allclose(
        signals.column(case["frames"], "zcr")[inner], expected[inner], atol=1e-6
    )


def test_centroid_bandwidth_rolloff_flatness(case):
    frames, magnitude = case["frames"], case["magnitude"]
    centroid = librosa.feature.spectral_centroid(S=magnitude, sr=SR, n_fft=CFG.n_fft)[0]
    bandwidth = librosa.feature.spectral_bandwidth(S=magnitude, sr=SR, n_fft=CFG.n_fft)[0]
    rolloff = librosa.feature.spectral_rolloff(
        S=magnitude, sr=SR, n_fft=CFG.n_fft, roll_percent=CFG.rolloff_percent
    )[0]
    flatness = librosa.feature.spectral_flatness(S=magnitude)[0]
    np.testing.assert_allclose(signals.column(frames, "centroid_hz"), centroid, rtol=1e-5,
                               atol=1e-2)
    np.testing.assert_allclose(signals.column(frames, "bandwidth_hz"), bandwidth, rtol=1e-5,
                               atol=1e-2)
    ours = signals.column(frames, "rolloff_hz")
    # Exact bins; a float tie at the threshold may move one frame by one bin.
    assert np.mean(ours == rolloff) >= 0.99
    assert np.max(np.abs(ours - rolloff)) <= SR / CFG.n_fft + 1e-3
    np.testing.assert_allclose(signals.column(frames, "flatness"), flatness, rtol=1e-3,
                               atol=1e-6)


def test_chroma(case):
    expected = librosa.feature.chroma_stft(
        S=case["magnitude"] ** 2, sr=SR, n_fft=CFG.n_fft, tuning=0.0, n_chroma=CFG.n_chroma
    )
    np.testing.assert_allclose(
        signals.block(case["frames"], "chroma", CFG.n_chroma), expected.T, atol=1e-5
    )


def test_contrast_on_a_signal_without_deep_valleys():
    """librosa clamps contrast to 80 dB below the utterance maximum (top_db), we do not (it would
    make a frame depend on the whole utterance); with noise present the clamp is inactive."""
    y = signals.speech_like(1.0) + signals.white_noise(1.0, 0.01, seed=5)
    magnitude = np.abs(librosa.stft(y, **STFT, window="hann", center=True, pad_mode="constant"))
    expected = librosa.feature.spectral_contrast(
        S=magnitude, sr=SR, n_fft=CFG.n_fft, fmin=CFG.contrast_fmin_hz,
        n_bands=CFG.contrast_bands, quantile=CFG.contrast_quantile,
    )
    ours = signals.block(features.frame_features(y, CFG), "contrast", CFG.contrast_bands + 1)
    np.testing.assert_allclose(ours, expected.T, atol=5e-3)


def test_mel_filterbank_equals_librosa_htk_variant_too():
    from streamer.features import filters

    for htk in (False, True):
        cfg = dataclasses.replace(CFG, mel_htk=htk, n_mels=64, fmin_hz=50.0, fmax_hz=7600.0)
        expected = librosa.filters.mel(
            sr=SR, n_fft=cfg.n_fft, n_mels=64, fmin=50.0, fmax=7600.0, htk=htk
        )
        np.testing.assert_allclose(filters.mel_filterbank(cfg), expected, rtol=1e-5, atol=1e-8)


def test_chroma_filterbank_equals_librosa():
    from streamer.features import filters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = librosa.filters.chroma(sr=SR, n_fft=CFG.n_fft, tuning=0.0)
    np.testing.assert_allclose(filters.chroma_filterbank(CFG), expected, rtol=1e-5, atol=1e-8)

"""One pass: samples -> frame matrix (for sequence models) and utterance vector (functionals)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import pitch, runtime, spectral, stft, voice_quality
from .config import DEFAULT_CONFIG, FeatureConfig
from .plan import Plan, plan
from .stats import functionals_from_columns


@dataclass(frozen=True)
class Features:
    frames: np.ndarray  # (n_frames, len(FRAME_FEATURE_NAMES)) float32
    vector: np.ndarray  # (len(FEATURE_NAMES),) float32


def _columns(samples: np.ndarray, p: Plan) -> np.ndarray:
    """(n_frame_features, T) float32: descriptors along rows, the layout every step prefers.

    Rows are filled in ``p.layout.frame_names`` order (checked at the end).
    """
    config = p.config
    padded, x = stft.prepare_padded(
        samples, config.remove_dc, config.n_fft, config.hop_length
    )
    spec = stft.stft(x, p, padded)
    count = spec.power.shape[1]
    out = np.empty((len(p.layout.frame_names), count), dtype=np.float32)
    row = 0

    def put(values: np.ndarray) -> None:
        nonlocal row
        n = 1 if values.ndim == 1 else values.shape[0]
        out[row : row + n] = values
        row += n

    def take(n: int) -> np.ndarray:
        nonlocal row
        row += n
        return out[row - n : row]

    # Spectral envelope: log-mel, MFCC and their deltas.
    n_mels, n_mfcc, n_chroma = config.n_mels, config.n_mfcc, config.n_chroma
    log_mel = take(n_mels)
    log_mel[...] = spectral.power_db(p.mel @ spec.power)
    mfcc = take(n_mfcc)
    np.matmul(p.dct, log_mel, out=mfcc)
    put(spectral.deltas(mfcc, p.delta_taps).reshape(2 * n_mfcc, count))
    # Energy, zero crossings and spectral shape.
    rms_db = take(1)[0]
    np.log10(np.maximum(spectral.rms(spec.frames), np.float32(1e-5)), out=rms_db)
    rms_db *= np.float32(20.0)
    put(spectral.zero_crossing_rate(spec.padded, p, count))
    put(np.stack(spectral.shape_descriptors(spec.magnitude, p)))
    power_sums = p.power_proj @ spec.power  # [chroma | alpha low | alpha high]
    floored = np.maximum(spec.power, np.float32(spectral.AMIN))
    power_mean = p.mean_row @ floored  # of the floored power, as librosa's flatness
    np.log(floored, out=floored)
    log_sums = p.log_proj @ floored  # [mean ln P, slope 0-500, slope 500-1500]
    put(spectral.flatness(log_sums[0], power_mean))
    spectral.flux(log_mel, take(1)[0])
    put(spectral.contrast(spec.magnitude, p))
    put(spectral.chroma(power_sums[:n_chroma]))
    # Pitch and voice quality: six rows computed at the pitch-frame rate (every pitch_stride-th
    # STFT frame) and upsampled together. F0 is interpolated in semitones (geometrically in Hz)
    # and, like "voiced", only between two voiced pitch frames.
    pad = config.n_fft // 2
    track = pitch.track(x, count, p, padded[pad - 2 :])
    at_pitch_rate = np.empty((6, track.f0_hz.size), dtype=np.float32)
    semitones = np.log2(np.maximum(track.f0_hz, np.float32(1.0)) * np.float32(1.0 / 27.5))
    semitones *= np.float32(12.0)
    np.multiply(semitones, track.voiced, out=at_pitch_rate[0])
    np.subtract(np.float32(1.0), track.aperiodicity, out=at_pitch_rate[1])  # voicing
    at_pitch_rate[2] = track.voiced
    at_pitch_rate[3:5] = voice_quality.perturbations(
        track.f0_hz, rms_db[:: config.pitch_stride], track.voiced
    )
    at_pitch_rate[5] = track.hnr_db
    voice = take(6)  # f0_st, voicing, voiced, jitter, shimmer_db, hnr_db
    pitch.upsample(at_pitch_rate, voice, config.pitch_stride)
    np.floor(voice[2], out=voice[2])  # in between: voiced only if both neighbours are (1, not 0.5)
    voice[0] *= voice[2]
    put(voice_quality.loudness(log_mel, config.loudness_exponent))
    put(voice_quality.alpha_ratio_db(power_sums[n_chroma], power_sums[n_chroma + 1]))
    put(voice_quality.hammarberg_db(spec.power, p.hammarberg_low, p.hammarberg_high))
    put(log_sums[1:3])
    assert row == out.shape[0], "frame columns out of step with layout.frame_names"
    return out


def frame_features(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """(n_frames, n_frame_features) float32 for 16 kHz mono samples; frame t is centred on
    sample t * hop_length and n_frames = 1 + len(samples) // hop_length."""
    with runtime.single_threaded_blas():
        return np.ascontiguousarray(_columns(samples, plan(config)).T)


def functionals(frames: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """(n_frames, n_frame_features) -> (n_features,) float32 utterance vector."""
    p = plan(config)
    columns = np.ascontiguousarray(np.asarray(frames, dtype=np.float32).T)
    with runtime.single_threaded_blas():
        return functionals_from_columns(columns, p.layout, config.frame_rate)


def extract(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> Features:
    """Frame matrix and utterance vector from 16 kHz mono float32 samples, in one pass."""
    p = plan(config)
    with runtime.single_threaded_blas():
        columns = _columns(samples, p)
        vector = functionals_from_columns(columns, p.layout, config.frame_rate)
    return Features(frames=np.ascontiguousarray(columns.T), vector=vector)


def extract_vector(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The fixed-length utterance vector the classifier consumes."""
    p = plan(config)
    with runtime.single_threaded_blas():
        return functionals_from_columns(_columns(samples, p), p.layout, config.frame_rate)

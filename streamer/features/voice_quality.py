"""eGeMAPS-style voice-quality descriptors, frame-level and vectorised.

Jitter and shimmer are frame-level approximations (no cycle-by-cycle waveform marking), on the
pitch-frame grid: a RAP-like relative perturbation of the period (jitter) and of the frame level
in dB (shimmer) against the mean of the two neighbouring pitch frames, defined where three
consecutive pitch frames are voiced and 0 elsewhere (0 is never a measured value in real audio,
so the voiced-only statistics skip it). The neighbour mean, rather than the previous frame,
keeps a steady glide or level ramp from reading as perturbation.
"""

from __future__ import annotations

import numpy as np

DB_PER_NEPER = float(10.0 / np.log(10.0))



def perturbations(f0_hz: np.ndarray, level_db: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """(2, n): jitter, the relative period perturbation |T - (T_prev + T_next) / 2| / T, and
    shimmer, the level perturbation |L - (L_prev + L_next) / 2| in dB, per pitch frame."""
    n = f0_hz.shape[0]
    out = np.zeros((2, n), dtype=np.float32)
    if n < 3:
        return out
    series = np.empty((2, n), dtype=np.float32)
    np.divide(np.float32(1.0), np.maximum(f0_hz, np.float32(1e-3)), out=series[0])  # period
    series[1] = level_db
    centre = series[:, 1:-1]
    deviation = series[:, :-2] + series[:, 2:]
    deviation *= np.float32(0.5)
    np.subtract(centre, deviation, out=deviation)
    np.abs(deviation, out=deviation)
    deviation[0] /= np.maximum(centre[0], np.float32(1e-9))
    defined = voiced[:-2] & voiced[1:-1] & voiced[2:]
    np.multiply(deviation, defined, out=out[:, 1:-1])
    return out


def loudness(log_mel_db: np.ndarray, exponent: float) -> np.ndarray:
    """Sum over the (n_mels, T) mel bands of band power ** exponent (Stevens' power law),
    computed from the dB log-mel as exp(exponent * ln P)."""
    powered = np.multiply(log_mel_db, np.float32(exponent / DB_PER_NEPER))
    np.exp(powered, out=powered)
    return np.add.reduce(powered, axis=0)


def alpha_ratio_db(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Energy 50-1000 Hz over 1-5 kHz, in dB."""
    return 10.0 * np.log10(np.maximum(low, 1e-10) / np.maximum(high, 1e-10))


def hammarberg_db(power: np.ndarray, low_bins: slice, high_bins: slice) -> np.ndarray:
    """Strongest bin 0-2 kHz over strongest bin 2-5 kHz of the (n_bins, T) power, in dB."""
    low = np.maximum.reduce(power[low_bins], axis=0)
    high = np.maximum.reduce(power[high_bins], axis=0)
    return 10.0 * np.log10(np.maximum(low, 1e-10) / np.maximum(high, 1e-10))

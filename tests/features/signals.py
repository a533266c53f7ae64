"""Deterministic test signals at 16 kHz with known answers."""

from __future__ import annotations

import numpy as np

from streamer import features

SR = features.SAMPLE_RATE


def times(seconds: float) -> np.ndarray:
    return np.arange(int(round(seconds * SR))) / SR


def tone(freq_hz: float, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * freq_hz * times(seconds))).astype(np.float32)


def harmonic(f0_hz: np.ndarray | float, seconds: float = 1.0, n_harmonics: int = 12,
             amplitude: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic complex (1/k amplitudes) following f0_hz (a constant or one value per sample);
    returns the signal and the instantaneous F0 per sample."""
    t = times(seconds)
    f0 = np.broadcast_to(np.asarray(f0_hz, dtype=np.float64), t.shape)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, n_harmonics + 1) if k * f0.max() < SR / 2)
    y = amplitude * y / np.max(np.abs(y))
    return y.astype(np.float32), f0


def glide(start_hz: float, stop_hz: float, seconds: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exponential glide (constant rate in octaves per second)."""
    t = times(seconds)
    return harmonic(start_hz * (stop_hz / start_hz) ** (t / seconds), seconds)


def vibrato(centre_hz: float, depth_cents: float, rate_hz: float,
            seconds: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    t = times(seconds)
    return harmonic(centre_hz * 2 ** (depth_cents / 1200 * np.sin(2 * np.pi * rate_hz * t)),
                    seconds)


def white_noise(seconds: float, amplitude: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal(int(round(seconds * SR)))).astype(np.float32)


def speech_like(seconds: float = 1.5, seed: int = 1) -> np.ndarray:
    """Gliding harmonic voice with a syllable envelope plus a little noise (never silent)."""
    t = times(seconds)
    f0 = 180 * 2 ** (0.3 * np.sin(2 * np.pi * 1.3 * t))
    voice, _ = harmonic(f0, seconds, n_harmonics=20)
    envelope = 0.3 + 0.7 * np.sin(np.pi * t / seconds)
    noise = white_noise(seconds, 0.003, seed)
    return (0.6 * voice * envelope + noise).astype(np.float32)


def column(frames: np.ndarray, name: str) -> np.ndarray:
    return frames[:, features.FRAME_FEATURE_NAMES.index(name)]


def block(frames: np.ndarray, prefix: str, n: int) -> np.ndarray:
    names = features.FRAME_FEATURE_NAMES
    return frames[:, [names.index(f"{prefix}_{i}") for i in range(n)]]


def f0_hz(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F0 in Hz (0 when unvoiced) and the voiced mask, from the frame matrix."""
    voiced = column(frames, "voiced") > 0.5
    semitones = column(frames, "f0_st")
    return np.where(voiced, 27.5 * 2 ** (semitones / 12), 0.0), voiced


def cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1200 * np.log2(np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64))


def frame_centres(n_frames: int) -> np.ndarray:
    """Sample index at the centre of each frame."""
    return np.arange(n_frames) * features.DEFAULT_CONFIG.hop_length

"""Synthetic non-speech that must get no confident emotion: noises, hum, tones, chords, clicks.

Used to fit and check the speech gate in training, for the model card's false-alarm figure, and
by the tests. Everything is generated from a seed; no recorded audio is involved.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RATE = 16000


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise with power ~ 1 / f**exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    freqs[0] = freqs[1]
    return np.fft.irfft(spectrum / freqs ** (exponent / 2), n)


def _tone(seconds: float, freqs: list[float]) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return sum(np.sin(2 * np.pi * f * t) for f in freqs)


def _chords(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A I-V-vi-IV progression on a plucked-string-like timbre, one chord per second."""
    roots = [261.63, 392.0, 440.0, 349.23]
    out = []
    for i in range(int(seconds)):
        root = roots[i % 4]
        ratios = [1.0, 1.26, 1.5, 2.0] if i % 4 != 2 else [1.0, 1.19, 1.5, 2.0]
        t = np.arange(RATE) / RATE
        chord = sum(
            np.sin(2 * np.pi * root * r * h * t) / h**1.5 for r in ratios for h in (1, 2, 3)
        )
        out.append(chord * np.exp(-2.5 * t))
    return np.concatenate(out)


def _clicks(rng: np.random.Generator, seconds: float) -> np.ndarray:
    x = 0.001 * rng.standard_normal(int(seconds * RATE))
    for start in rng.integers(0, len(x) - 200, size=int(seconds * 4)):
        x[start : start + 40] += rng.uniform(-1, 1) * np.hanning(40)
    return x


def signals(seconds: float = 20.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Name -> float32 mono 16 kHz signal, peak-normalised to -6 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    makers: dict[str, Callable[[], np.ndarray]] = {
        "white noise": lambda: rng.standard_normal(n),
        "pink noise": lambda: _coloured(rng, n, 1.0),
        "brown noise": lambda: _coloured(rng, n, 2.0),
        "mains hum": lambda: _tone(seconds, [50, 100, 150, 200, 250]),
        "pure tone": lambda: _tone(seconds, [440.0]),
        "chord progression": lambda: _chords(rng, seconds),
        "clicks": lambda: _clicks(rng, seconds),
    }
    out = {}
    for name, make in makers.items():
        x = make()
        out[name] = (0.5 * x / np.max(np.abs(x))).astype(np.float32)
    return out

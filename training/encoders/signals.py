"""Generated speech-like audio for checking encoders without any corpus audio.

Syllables of a glottal pulse train with vibrato and jitter through three formant resonators
whose targets change per syllable, a little breath noise and short pauses: enough spectral
structure that a speech encoder's features are not those of silence or of white noise.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SR = 16000
_VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (530, 1840, 2480), (570, 840, 2410),
           (300, 870, 2240), (660, 1720, 2410))


def _syllable(n: int, f0: float, formants: tuple[int, ...], rng: np.random.Generator):
    t = np.arange(n) / SR
    track = f0 * (1 + 0.06 * np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6)))
    track *= 1 + 0.01 * rng.standard_normal(n)
    pulses = (np.diff(np.floor(np.cumsum(track / SR)), prepend=0.0) > 0).astype(np.float64)
    source = lfilter([1.0], [1.0, -0.97], pulses) + 0.03 * rng.standard_normal(n)
    for formant, bandwidth in zip(formants, (90, 110, 160), strict=True):
        r = np.exp(-np.pi * bandwidth / SR)
        theta = 2 * np.pi * formant * rng.uniform(0.95, 1.05) / SR
        source = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], source)
    return source * np.hanning(n)


def speech_like(duration_s: float, seed: int = 0, f0: float = 140.0) -> np.ndarray:
    """``duration_s`` seconds of 16 kHz float32 speech-like audio, peak 0.5, reproducible."""
    rng = np.random.default_rng(seed)
    total = int(round(duration_s * SR))
    out = np.zeros(total)
    pos = int(rng.uniform(0.02, 0.1) * SR)
    while pos < total:
        n = min(int(rng.uniform(0.12, 0.3) * SR), total - pos)
        vowel = _VOWELS[int(rng.integers(len(_VOWELS)))]
        out[pos : pos + n] = _syllable(n, f0 * rng.uniform(0.85, 1.2), vowel, rng)
        pos += n + int(rng.choice([0.01, 0.03, 0.2], p=[0.6, 0.3, 0.1]) * SR)
    out += 1e-3 * rng.standard_normal(total)
    peak = float(np.max(np.abs(out))) if total else 0.0
    return (0.5 * out / (peak or 1.0)).astype(np.float32)

"""Synthetic test audio with known answers: speech-like voiced bursts separated by silence."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

SR = 16000


def vowel(duration_s: float, f0: float = 140.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A voiced, vowel-like sound: a jittered glottal pulse train through three formant
    resonators, with a 4 Hz syllable-rate envelope. webrtcvad hears it as speech."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    f0_track = f0 * (1 + 0.05 * np.sin(2 * np.pi * 1.5 * t)) * (1 + 0.01 * rng.standard_normal(n))
    phase = np.cumsum(f0_track / sr)
    pulses = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)
    source = lfilter([1.0], [1.0, -0.95], pulses) + 0.02 * rng.standard_normal(n)
    signal = source
    for formant, bandwidth in ((700, 110), (1220, 120), (2600, 160)):
        r = np.exp(-np.pi * bandwidth / sr)
        theta = 2 * np.pi * formant / sr
        signal = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], signal)
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2
    signal = signal * envelope
    fade = min(n // 2, int(0.01 * sr))
    if fade:
        ramp = np.linspace(0, 1, fade)
        signal[:fade] *= ramp
        signal[-fade:] *= ramp[::-1]
    peak = np.max(np.abs(signal)) if n else 1.0
    return (0.5 * signal / (peak or 1.0)).astype(np.float32)


def silence(duration_s: float, sr: int = SR, noise_dbfs: float = -70.0, seed: int = 1):
    rng = np.random.default_rng(seed)
    level = 10 ** (noise_dbfs / 20)
    return (level * rng.standard_normal(int(round(duration_s * sr)))).astype(np.float32)


def speech_and_silence(pattern: list[tuple[str, float]], sr: int = SR) -> tuple[np.ndarray, list]:
    """Concatenate ("speech"|"silence", seconds) parts; returns audio and the speech intervals."""
    parts, intervals, t = [], [], 0.0
    for i, (kind, duration) in enumerate(pattern):
        part = (
            vowel(duration, f0=120 + 20 * i, sr=sr, seed=i)
            if kind == "speech"
            else silence(duration, sr=sr, seed=i)
        )
        if kind == "speech":
            intervals.append((t, t + duration))
        parts.append(part)
        t += duration
    return np.concatenate(parts), intervals


def spoken(text: str, wpm: int = 150, voice: str = "en-us") -> np.ndarray:
    """``text`` said by espeak-ng (skips the test where it is missing), at 16 kHz."""
    import soxr
    from tools import require_tool

    from streamer.live.demo import speak

    require_tool("espeak-ng")
    samples, rate = speak(text, wpm, 50, voice)
    return soxr.resample(samples, rate, SR).astype(np.float32)

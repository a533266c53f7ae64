"""Augmentation aimed at the live microphone (vectorised numpy/scipy, 16 kHz mono float32).

Applied to training clips only: ``cache.py`` computes augmented copies per clip, and
``evaluate.py`` only ever puts a clip's copies next to that clip in the training part of a fold.
Babble is mixed from other speakers *of the same fold group* (see ``evaluate.babble_sources``), so
no test speaker's voice ever leaks into training audio.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

from streamer.features import SAMPLE_RATE

_EPS = 1e-10


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of the random chain (one draw per augmented copy)."""

    p_speed: float = 0.35
    speed_range: tuple[float, float] = (0.9, 1.1)
    p_pitch: float = 0.35
    pitch_semitones: tuple[float, float] = (-2.5, 2.5)
    p_reverb: float = 0.4
    rt60_range: tuple[float, float] = (0.15, 0.8)
    p_noise: float = 0.7
    snr_db_range: tuple[float, float] = (0.0, 30.0)
    # A phone line cost held-out calls 6-9 points at 0.15 (issue 20: at most 5 allowed).
    p_telephone: float = 0.3
    p_clip: float = 0.15
    level_dbfs_range: tuple[float, float] = (-40.0, -12.0)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + _EPS))


def add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    noise = np.resize(noise, len(x))  # repeats a short noise
    scale = rms(x) / (rms(noise) * 10.0 ** (snr_db / 20.0))
    return (x + scale * noise).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n).astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power spectrum by shaping white noise in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spectrum / np.sqrt(f), n).astype(np.float32)


def hum(n: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum: 50 or 60 Hz with decaying harmonics and a little broadband hiss."""
    f0 = 50.0 if rng.random() < 0.5 else 60.0
    t = np.arange(n) / SAMPLE_RATE
    k = np.arange(1, 8)[:, None]
    phases = rng.uniform(0, 2 * np.pi, (7, 1))
    tone = (np.sin(2 * np.pi * f0 * k * t[None, :] + phases) / k**1.2).sum(axis=0)
    return (tone + 0.05 * rng.standard_normal(n)).astype(np.float32)


def babble(n: int, sources: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Sum of several other talkers, each level-normalised and started at a random offset."""
    if not sources:
        return pink_noise(n, rng)
    out = np.zeros(n, dtype=np.float32)
    for index in rng.choice(len(sources), size=min(len(sources), 4), replace=False):
        src = sources[int(index)]
        src = np.roll(np.resize(src, n), int(rng.integers(0, n)))
        out += src / rms(src)
    return out


def resample_factor(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch and tempo both change, like tape speed)."""
    frac = Fraction(1.0 / factor).limit_denominator(40)
    return resample_poly(x, frac.numerator, frac.denominator).astype(np.float32)


def time_stretch(x: np.ndarray, rate: float, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """Phase vocoder; ``rate`` > 1 shortens. Phase accumulation is a cumsum, not a frame loop."""
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + n_fft))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    spec = np.fft.rfft(frames * window, axis=1)  # (T, F)
    steps = np.arange(0, len(spec) - 1, rate)
    i = steps.astype(int)
    a = (steps - i)[:, None]
    mag = (1 - a) * np.abs(spec[i]) + a * np.abs(spec[i + 1])
    omega = 2 * np.pi * hop * np.arange(spec.shape[1]) / n_fft
    dphi = np.angle(spec[i + 1]) - np.angle(spec[i]) - omega
    dphi = dphi - 2 * np.pi * np.round(dphi / (2 * np.pi)) + omega
    phase = np.angle(spec[0]) + np.concatenate(
        [np.zeros((1, spec.shape[1])), np.cumsum(dphi, 0)[:-1]]
    )
    out_frames = np.fft.irfft(mag * np.exp(1j * phase), n_fft, axis=1) * window
    out = _overlap_add(out_frames, hop) / np.maximum(
        _overlap_add(np.broadcast_to(window**2, out_frames.shape), hop), 1e-3
    )
    target = int(round(len(x) / rate))
    return out[n_fft // 2 : n_fft // 2 + target].astype(np.float32)


def _overlap_add(frames: np.ndarray, hop: int) -> np.ndarray:
    """Sum frames (S, n_fft) placed ``hop`` apart; n_fft must be a multiple of hop."""
    n, width = frames.shape
    r = width // hop
    blocks = np.zeros((n + r - 1, hop))
    for k in range(r):  # r = n_fft / hop shifted slabs, not one step per frame
        blocks[k : k + n] += frames[:, k * hop : (k + 1) * hop]
    return blocks.reshape(-1)


def pitch_shift(x: np.ndarray, semitones: float) -> np.ndarray:
    factor = 2.0 ** (semitones / 12.0)
    stretched = time_stretch(x, 1.0 / factor)
    return resample_factor(stretched, factor)[: len(x)]


def room_impulse(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """Synthetic RIR: direct path, a few early reflections, exponentially decaying diffuse tail."""
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.005 * SAMPLE_RATE)] = 0.0
    rir = 0.3 * tail / (np.abs(tail).max() + _EPS)
    early = rng.integers(int(0.002 * SAMPLE_RATE), int(0.03 * SAMPLE_RATE), size=5)
    rir[early] += rng.uniform(-0.6, 0.6, size=5)
    rir[0] = 1.0
    return rir.astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, rt60: float) -> np.ndarray:
    wet = fftconvolve(x, room_impulse(rng, rt60))[: len(x)]
    return (wet * (rms(x) / rms(wet))).astype(np.float32)


def telephone(x: np.ndarray) -> np.ndarray:
    """A narrow-band phone line: 300-3,400 Hz, 8 kHz, G.711 mu-law, back at 16 kHz."""
    sos = butter(6, [300.0, 3400.0], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    narrow = resample_poly(sosfilt(sos, x), 1, 2)
    peak = max(float(np.max(np.abs(narrow))), 1e-9)
    scale = min(1.0, 0.99 / peak)  # a line clips; keep the companding in range
    line = mu_law_decode(mu_law_encode(narrow * scale)) / scale
    return resample_poly(line, 2, 1)[: len(x)].astype(np.float32)


def mu_law_encode(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """G.711-style mu-law to 8-bit codes (0..255) of samples in [-1, 1]."""
    y = np.sign(x) * np.log1p(mu * np.abs(np.clip(x, -1.0, 1.0))) / np.log1p(mu)
    return np.round((y + 1.0) * 127.5).astype(np.uint8)


def mu_law_decode(codes: np.ndarray, mu: float = 255.0) -> np.ndarray:
    y = codes.astype(np.float64) / 127.5 - 1.0
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def set_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return (x * (10.0 ** (dbfs / 20.0) / rms(x))).astype(np.float32)


def clip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Overdriven input: boost until 1-5 % of samples hit full scale."""
    peak = np.quantile(np.abs(x), rng.uniform(0.95, 0.99)) + _EPS
    return np.clip(x / peak, -1.0, 1.0).astype(np.float32)


def augment(
    x: np.ndarray,
    rng: np.random.Generator,
    babble_sources: Sequence[np.ndarray] | Callable[[], Sequence[np.ndarray]] = (),
    config: AugmentConfig | None = None,
) -> np.ndarray:
    """One random chain: speed/pitch -> room -> noise -> telephone -> level -> clipping.

    ``babble_sources`` may be a callable so the other talkers are only loaded when babble is drawn.
    """
    c = config or AugmentConfig()
    y = np.asarray(x, dtype=np.float32)
    if rng.random() < c.p_speed:
        y = resample_factor(y, rng.uniform(*c.speed_range))
    elif rng.random() < c.p_pitch / (1 - c.p_speed):
        y = pitch_shift(y, rng.uniform(*c.pitch_semitones))
    if rng.random() < c.p_reverb:
        y = reverb(y, rng, rng.uniform(*c.rt60_range))
    if rng.random() < c.p_noise:
        kind = rng.choice(["white", "pink", "babble", "hum"], p=[0.2, 0.3, 0.35, 0.15])
        n = len(y)
        noise = {
            "white": lambda: white_noise(n, rng),
            "pink": lambda: pink_noise(n, rng),
            "babble": lambda: babble(
                n, babble_sources() if callable(babble_sources) else babble_sources, rng
            ),
            "hum": lambda: hum(n, rng),
        }[str(kind)]()
        low = c.snr_db_range[0] + (5.0 if kind == "babble" else 0.0)
        y = add_noise(y, noise, rng.uniform(low, c.snr_db_range[1]))
    if rng.random() < c.p_telephone:
        y = telephone(y)
    y = set_level(y, rng.uniform(*c.level_dbfs_range))
    if rng.random() < c.p_clip:
        y = clip(y, rng)
    return np.clip(y, -1.0, 1.0).astype(np.float32)

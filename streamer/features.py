"""Feature extraction: 16 kHz mono float32 samples -> frame matrix and utterance vector.

This is the one implementation that both live inference (streamer) and training use.
Everything is vectorised over frames (no Python loop per frame).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.fft import dct, rfft

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 160  # 10 ms
WIN = 400  # 25 ms
N_MELS = 40
N_MFCC = 13
FEATURE_VERSION = "1"
_EPS = 1e-10


@dataclass(frozen=True)
class Features:
    frames: np.ndarray  # (n_frames, len(FRAME_FEATURE_NAMES)) float32
    vector: np.ndarray  # (len(FEATURE_NAMES),) float32


def feature_spec() -> str:
    """A stable text description stored in the model and compared on load."""
    spec = {
        "name": "ser-live-features",
        "version": FEATURE_VERSION,
        "sample_rate": SAMPLE_RATE,
        "n_fft": N_FFT,
        "hop": HOP,
        "win": WIN,
        "n_mels": N_MELS,
        "n_mfcc": N_MFCC,
        "n_features": len(FEATURE_NAMES),
    }
    return json.dumps(spec, sort_keys=True)


@lru_cache(maxsize=4)
def _mel_filterbank(n_mels: int, n_fft: int, sr: int) -> np.ndarray:
    def hz_to_mel(hz: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def mel_to_hz(mel: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)

    bins = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(sr / 2)), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None, :] - lower) / (centre - lower)
    falling = (upper - bins[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (upper - lower))  # equal area per band
    return weights.astype(np.float32)


def _frame(samples: np.ndarray) -> np.ndarray:
    pad = N_FFT // 2
    padded = np.pad(samples, (pad, pad))
    if len(padded) < N_FFT:
        padded = np.pad(padded, (0, N_FFT - len(padded)))
    n_frames = 1 + (len(padded) - N_FFT) // HOP
    view = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    return view


def _deltas(x: np.ndarray) -> np.ndarray:
    padded = np.pad(x, ((2, 2), (0, 0)), mode="edge")
    return (
        (padded[3:-1] - padded[1:-3]) + 2.0 * (padded[4:] - padded[:-4])
    ) / 10.0


def frame_features(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    frames = _frame(samples)
    window = np.zeros(N_FFT, dtype=np.float32)
    offset = (N_FFT - WIN) // 2
    window[offset : offset + WIN] = np.hanning(WIN + 1)[:-1]
    spectrum = np.abs(rfft(frames * window, axis=1)) ** 2
    mel = spectrum @ _mel_filterbank(N_MELS, N_FFT, SAMPLE_RATE).T
    log_mel = np.log(mel + _EPS)
    mfcc = dct(log_mel, type=2, norm="ortho", axis=1)[:, :N_MFCC]
    centred = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(centred[:, offset : offset + WIN] ** 2, axis=1) + _EPS)
    signs = np.signbit(centred[:, offset : offset + WIN])
    zcr = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    power = spectrum.sum(axis=1) + _EPS
    centroid = (spectrum @ freqs) / power / (SAMPLE_RATE / 2)
    out = np.concatenate(
        [log_mel, mfcc, _deltas(mfcc), np.log(rms)[:, None], zcr[:, None], centroid[:, None]],
        axis=1,
    )
    return out.astype(np.float32)


FRAME_FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"logmel_{i}" for i in range(N_MELS))
    + tuple(f"mfcc_{i}" for i in range(N_MFCC))
    + tuple(f"mfcc_d_{i}" for i in range(N_MFCC))
    + ("log_rms", "zcr", "centroid")
)
_STATS = ("mean", "std", "p10", "p50", "p90")
FEATURE_NAMES: tuple[str, ...] = tuple(f"{n}__{s}" for n in FRAME_FEATURE_NAMES for s in _STATS)


def functionals(frames: np.ndarray) -> np.ndarray:
    mean = frames.mean(axis=0)
    std = frames.std(axis=0)
    p10, p50, p90 = np.percentile(frames, [10, 50, 90], axis=0)
    return np.stack([mean, std, p10, p50, p90], axis=1).reshape(-1).astype(np.float32)


def extract(samples: np.ndarray) -> Features:
    """Frame matrix and utterance vector from 16 kHz mono samples, in one pass."""
    frames = frame_features(samples)
    return Features(frames=frames, vector=functionals(frames))


def extract_vector(samples: np.ndarray) -> np.ndarray:
    """The fixed-length utterance vector the classifier consumes."""
    return extract(samples).vector

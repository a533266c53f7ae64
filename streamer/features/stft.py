"""Input conditioning and the one short-time Fourier transform everything spectral shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .plan import Plan


def prepare(samples: np.ndarray, remove_dc: bool) -> np.ndarray:
    """1-D float32; non-finite samples become 0 / +-1; the mean is removed if asked."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if x.size == 0:
        return x
    x, mean = _finite_with_mean(x)
    if remove_dc and mean != 0.0:
        return x - np.float32(mean)
    return x


def _finite_with_mean(x: np.ndarray) -> tuple[np.ndarray, float]:
    """The samples with any NaN -> 0 and +-inf -> +-1, and their mean."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf + -inf: handled just below
        mean = float(np.add.reduce(x)) / x.size  # pairwise float32 sum: plenty for DC
    if not np.isfinite(mean):
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
        mean = float(np.add.reduce(x)) / x.size
    return x, mean


def n_frames(n_samples: int, hop_length: int) -> int:
    """Centred frames, librosa's count: 1 + n // hop (at least one frame, even for no input)."""
    return 1 + n_samples // hop_length


def frame_view(signal: np.ndarray, length: int, hop: int, count: int, start: int = 0) -> np.ndarray:
    """(count, length) view of signal[start + t*hop : start + t*hop + length], no copy.

    ``signal`` must be 1-D and contiguous; numpy checks that every frame lies inside it.
    """
    step = signal.itemsize
    return np.ndarray(
        (count, length), signal.dtype, buffer=signal, offset=start * step,
        strides=(hop * step, step),
    )


@dataclass(frozen=True)
class Spectrogram:
    padded: np.ndarray  # signal with n_fft//2 zeros each side (and more at the end if needed)
    frames: np.ndarray  # (T, win_length) view of the unwindowed analysis windows
    magnitude: np.ndarray  # (n_bins, T) float32 |X|, bins along rows
    power: np.ndarray  # (n_bins, T) float32 |X|^2


def stft(x: np.ndarray, plan: Plan, padded: np.ndarray | None = None) -> Spectrogram:
    """Centred, zero-padded STFT with a periodic Hann window of win_length inside n_fft.

    ``padded`` (from ``prepare_padded``) saves the copy of x into a zero-padded buffer."""
    config = plan.config
    n_fft, hop, win = config.n_fft, config.hop_length, config.win_length
    count = n_frames(x.size, hop)
    if padded is None:
        padded, target = padded_buffer(x.size, config.n_fft, hop)
        target[...] = x
    frames = frame_view(padded, win, hop, count, start=plan.offset)
    if win == n_fft:
        buffer = np.multiply(frames, plan.window)
    else:
        buffer = np.zeros((count, n_fft), dtype=np.float32)
        np.multiply(frames, plan.window, out=buffer[:, plan.offset : plan.offset + win])
    spectrum = sfft.rfft(buffer, axis=1)
    magnitude = np.abs(spectrum).T.copy()
    return Spectrogram(
        padded=padded, frames=frames, magnitude=magnitude, power=np.square(magnitude)
    )


def padded_buffer(n_samples: int, n_fft: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Zeros: n_fft//2 before room for the signal, at least n_fft//2 after it (enough for every
    frame); returned with the view ``buffer[n_fft//2 : n_fft//2 + n_samples]`` the caller fills."""
    count = n_frames(n_samples, hop)
    pad = n_fft // 2
    padded = np.zeros(max(n_samples + 2 * pad, (count - 1) * hop + n_fft), dtype=np.float32)
    return padded, padded[pad : pad + n_samples]


def prepare_padded(
    samples: np.ndarray, remove_dc: bool, n_fft: int, hop: int
) -> tuple[np.ndarray, np.ndarray]:
    """``prepare`` written straight into the STFT's zero-padded buffer (one pass instead of two):
    returns the buffer and the conditioned signal, a view ``buffer[n_fft//2 : n_fft//2 + n]``."""
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    padded, target = padded_buffer(x.size, n_fft, hop)
    if x.size == 0:
        return padded, target
    x, mean = _finite_with_mean(x)
    if remove_dc and mean != 0.0:
        np.subtract(x, np.float32(mean), out=target)
    else:
        target[...] = x
    return padded, target

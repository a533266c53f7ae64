"""Frame-level spectral and temporal descriptors, vectorised over all frames at once.

Spectra arrive as (n_bins, T): bins along rows, so band reductions run over contiguous rows.
Definitions follow librosa at the same STFT parameters for what both have: centroid, bandwidth
and roll-off on the magnitude spectrum, flatness on the power spectrum, contrast on octave
sub-bands of the magnitude, chroma from the power spectrum (max-normalised), RMS and
zero-crossing rate on the unwindowed frames. Reductions call the ufuncs directly
(``np.maximum.reduce`` rather than ``.max()``): the method wrappers cost microseconds each.
"""

from __future__ import annotations

import numpy as np

from .plan import ROLLOFF_BLOCK, Plan, triangle
from .stft import frame_view

AMIN = 1e-10  # power floor before logs (librosa's amin)
TINY = float(np.finfo(np.float32).tiny)
DB_PER_NEPER = float(10.0 / np.log(10.0))


def power_db(power: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """10*log10(max(power, 1e-10)): librosa.power_to_db(ref=1, amin=1e-10, top_db=None).
    ``out`` may be ``power`` itself (in place)."""
    out = np.maximum(power, np.float32(AMIN), out=out)
    np.log(out, out=out)
    out *= np.float32(DB_PER_NEPER)
    return out


def deltas(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Savitzky-Golay derivatives of x's rows along time with edge repeat, one per row of
    ``taps``: (len(taps), *x.shape), as librosa.feature.delta(x, width, order=k + 1,
    mode='nearest'). The taps of a derivative are (anti)symmetric, so each pair of mirrored
    neighbours costs one add and one multiply-add."""
    n_out, width = taps.shape
    half = width // 2
    rows, n = x.shape
    padded = np.empty((rows, n + 2 * half), dtype=np.float32)
    padded[:, half : half + n] = x
    padded[:, :half] = x[:, :1]
    padded[:, half + n :] = x[:, -1:]
    out = np.zeros((n_out, rows, n), dtype=np.float32)
    for k in range(n_out):
        odd = (k + 1) % 2 == 1  # odd derivative order: antisymmetric taps
        if not odd and taps[k, half] != 0:
            out[k] = taps[k, half] * x
        for j in range(1, half + 1):
            after, before = padded[:, half + j : half + j + n], padded[:, half - j : half - j + n]
            pair = after - before if odd else after + before
            pair *= taps[k, half + j]
            out[k] += pair
    return out


def rms(frames: np.ndarray) -> np.ndarray:
    """Root mean square of each unwindowed analysis window (librosa.feature.rms on y)."""
    return np.sqrt(np.einsum("ij,ij->i", frames, frames) * np.float32(1.0 / frames.shape[1]))


def zero_crossing_rate(padded: np.ndarray, plan: Plan, count: int) -> np.ndarray:
    """Sign changes per sample inside each analysis window; |x| <= 1e-10 counts as positive
    (librosa's zero_crossings(threshold=1e-10, zero_pos=True), divided by the window length)."""
    config = plan.config
    negative = padded < -1e-10
    crossing = np.not_equal(negative[1:], negative[:-1]).view(np.uint8)  # between k and k+1
    win = config.win_length
    windows = frame_view(crossing, win - 1, config.hop_length, count, start=plan.offset)
    counts = np.add.reduce(windows, axis=1, dtype=np.int32)
    return counts.astype(np.float32) * np.float32(1.0 / win)


def shape_descriptors(
    magnitude: np.ndarray, plan: Plan
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroid, bandwidth (p=2) and roll-off, in Hz, from the (n_bins, T) magnitude."""
    sums = plan.magnitude_proj @ magnitude  # sum S, sum f S, sum f^2 S, then block starts
    total, first, second = sums[0], sums[1], sums[2]
    scale = np.float32(1.0) / np.where(total > TINY, total, np.float32(1.0))
    centroid = first * scale
    spread = second * scale
    spread -= centroid * centroid
    np.maximum(spread, 0.0, out=spread)
    return centroid, np.sqrt(spread), rolloff(magnitude, sums[3:], total, plan)


def rolloff(
    magnitude: np.ndarray, block_starts: np.ndarray, total: np.ndarray, plan: Plan
) -> np.ndarray:
    """Lowest bin frequency whose cumulative magnitude reaches rolloff_percent of the total.

    ``block_starts[b]``: the magnitude summed over the bins before block b of ROLLOFF_BLOCK bins
    (b = 0 .. n_blocks, the last being the total). The block where the running sum crosses the
    threshold is found from those; only that block's running sums are then built, per frame,
    instead of the cumulative sum over every bin.
    """
    n_bins, count = magnitude.shape
    threshold = np.float32(plan.config.rolloff_percent) * total
    reached = np.less(block_starts[1:], threshold).view(np.uint8)
    block = np.add.reduce(reached, axis=0, dtype=np.intp)  # ~4x faster than count_nonzero
    np.minimum(block, block_starts.shape[0] - 2, out=block)
    columns = np.arange(count)
    before = block_starts.take(block * count + columns)
    first_bin = block * ROLLOFF_BLOCK
    bins = np.minimum(first_bin + plan.rolloff_steps, n_bins - 1)  # (ROLLOFF_BLOCK, T)
    bins *= count
    bins += columns
    running = triangle(ROLLOFF_BLOCK) @ magnitude.take(bins)
    running += before
    below = np.less(running, threshold).view(np.uint8)
    index = np.add.reduce(below, axis=0, dtype=np.intp)
    index += first_bin
    np.minimum(index, n_bins - 1, out=index)
    return (index * plan.hz_per_bin).astype(np.float32)


def flatness(log_power_mean: np.ndarray, power_mean: np.ndarray) -> np.ndarray:
    """Geometric over arithmetic mean of the power spectrum (floored at 1e-10)."""
    return np.exp(log_power_mean) / np.maximum(power_mean, np.float32(AMIN))


def contrast(magnitude: np.ndarray, plan: Plan) -> np.ndarray:
    """(n_bands + 1, T) octave-band spectral contrast in dB (librosa.feature.spectral_contrast
    on |X|, without its utterance-wide top_db clamp)."""
    bands = plan.contrast
    extremes = np.empty((2, len(bands), magnitude.shape[1]), dtype=np.float32)
    peak, valley = extremes
    for b, band in enumerate(bands):
        sub = magnitude[band.start : band.stop]
        if band.k == 1:
            np.maximum.reduce(sub, axis=0, out=peak[b])
            np.minimum.reduce(sub, axis=0, out=valley[b])
        else:
            ordered = np.sort(sub, axis=0)
            valley[b] = np.add.reduce(ordered[: band.k], axis=0) * np.float32(1.0 / band.k)
            peak[b] = np.add.reduce(ordered[-band.k :], axis=0) * np.float32(1.0 / band.k)
    power_db(extremes, out=extremes)
    return np.subtract(peak, valley)


def chroma(raw: np.ndarray) -> np.ndarray:
    """Max-normalise (n_chroma, T) chroma energies per frame (frames without energy stay 0)."""
    top = np.maximum.reduce(raw, axis=0)
    return raw * (np.float32(1.0) / np.where(top > TINY, top, np.float32(1.0)))


def flux(log_mel_db: np.ndarray, out: np.ndarray) -> None:
    """Mean positive change of the dB log-mel from the previous frame (0 for the first)."""
    out[0] = 0.0
    if log_mel_db.shape[1] > 1:
        rise = log_mel_db[:, 1:] - log_mel_db[:, :-1]
        np.maximum(rise, 0.0, out=rise)
        out[1:] = np.add.reduce(rise, axis=0) * np.float32(1.0 / log_mel_db.shape[0])

"""Utterance functionals: frame matrix -> one fixed-length vector.

Every column gets mean, std, 10/50/90th percentiles, range (p90 - p10, robust to outliers) and
linear slope over time (per second). Pitch and voice-quality columns are summarised again over
voiced frames only, and a few rhythm measures describe the voiced/unvoiced segmentation.
Percentiles come from one sort of the (columns, frames) matrix, which is much faster than
np.percentile and gives the same linearly interpolated values.
"""

from __future__ import annotations

import numpy as np

from .layout import PERCENTILES, TEMPORAL, Layout

_QUANTILES = np.asarray(PERCENTILES) / 100.0
_LAST = np.finfo(np.float32).max  # excluded entries sort to the end
_JITTER_SHIMMER = ("jitter", "shimmer_db")  # 0 where undefined (see voice_quality)


def _percentiles(ordered: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Linearly interpolated percentiles of each sorted row's first counts[i] entries."""
    n_rows, n = ordered.shape
    last = np.maximum(counts - 1, 0)[:, None]
    position = _QUANTILES[None, :] * last
    lo = position.astype(np.intp)  # floor: positions are >= 0
    frac = (position - lo).astype(np.float32)
    start = np.arange(0, n_rows * n, n)[:, None]  # flat picks: cheaper than fancy indexing
    hi = np.minimum(lo + 1, last)
    hi += start
    lo += start
    low = ordered.take(lo)
    return low + (ordered.take(hi) - low) * frac


def describe(rows: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(C, n) series sampled at ``times`` seconds -> (C, 7) statistics; zeros when n == 0."""
    n_cols, n = rows.shape
    out = np.zeros((n_cols, 7), dtype=np.float32)
    if n == 0:
        return out
    ordered = np.sort(rows, axis=1)
    mean = np.add.reduce(ordered, axis=1) * np.float32(1.0 / n)
    centred = ordered - mean[:, None]
    out[:, 0] = mean
    out[:, 1] = np.sqrt(np.einsum("ij,ij->i", centred, centred) * np.float32(1.0 / n))
    position = _QUANTILES * (n - 1)  # same positions for every row: plain column picks
    lo = position.astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    low = ordered[:, lo]
    out[:, 2:5] = low + (ordered[:, hi] - low) * (position - lo).astype(np.float32)
    out[:, 5] = out[:, 4] - out[:, 2]
    t = times - np.add.reduce(times) / n
    spread = float(t @ t)
    if spread > 0:
        out[:, 6] = rows @ (t / spread).astype(np.float32)
    return out


def describe_masked(rows: np.ndarray, mask: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Like ``describe`` but each row only over its own mask: (C, T) values, (C, T) bool.

    Excluded entries sort to the end, so one sort serves every row whatever its count.
    """
    out = np.zeros((rows.shape[0], 7), dtype=np.float32)
    weights = mask.astype(np.float32)
    counts = np.add.reduce(weights, axis=1)  # exact: far below 2**24 frames
    scale = np.float32(1.0) / np.maximum(counts, np.float32(1.0))
    mean = np.einsum("ij,ij->i", rows, weights) * scale
    centred = rows - mean[:, None]
    centred *= weights
    out[:, 0] = mean
    out[:, 1] = np.sqrt(np.einsum("ij,ij->i", centred, centred) * scale)
    ordered = np.sort(np.where(mask, rows, _LAST), axis=1)
    present = counts > 0
    out[:, 2:5] = _percentiles(ordered, counts.astype(np.intp)) * present[:, None]
    out[:, 5] = out[:, 4] - out[:, 2]
    t = times.astype(np.float32)
    dt = t - ((weights @ t) * scale)[:, None]
    dt *= weights
    spread = np.einsum("ij,ij->i", dt, dt)
    covariance = np.einsum("ij,ij->i", dt, centred)
    out[:, 6] = np.where(spread > 0, covariance / np.maximum(spread, np.float32(1e-12)), 0.0)
    return out


def temporal(voiced: np.ndarray, loudness: np.ndarray, frame_rate: float) -> np.ndarray:
    """Voiced fraction, voiced segments per second, mean voiced and unvoiced segment length (s),
    loudness peaks per second."""
    n = voiced.size
    duration = n / frame_rate
    n_voiced = int(np.count_nonzero(voiced))
    starts = int(np.count_nonzero(voiced[1:] & ~voiced[:-1])) + int(voiced[0])
    # Unvoiced frames between the first and the last voiced frame form the gaps.
    gap_frames, gaps = 0, max(starts - 1, 0)
    if gaps:
        where = np.flatnonzero(voiced)
        gap_frames = int(where[-1] - where[0] + 1) - n_voiced
    peaks = 0
    if n >= 3:
        mid = loudness[1:-1]
        peaks = int(np.count_nonzero((mid > loudness[:-2]) & (mid >= loudness[2:])))
    values = (
        n_voiced / n,
        starts / duration,
        n_voiced / max(starts, 1) / frame_rate,
        gap_frames / max(gaps, 1) / frame_rate,
        peaks / duration,
    )
    assert len(values) == len(TEMPORAL)
    return np.asarray(values, dtype=np.float32)


def functionals_from_columns(columns: np.ndarray, lay: Layout, frame_rate: float) -> np.ndarray:
    """(n_frame_features, T) -> (n_features,) float32, in the order of lay.vector_names."""
    n = columns.shape[1]
    times = np.arange(n, dtype=np.float64) * (1.0 / frame_rate)
    col = lay.column
    voiced = columns[col["voiced"]] > 0.5
    rows = columns[list(lay.voiced_rows)]
    mask = np.empty(rows.shape, dtype=bool)
    mask[...] = voiced
    for i in lay.perturbation_rows:
        mask[i] &= rows[i] > 0
    out = np.empty(len(lay.vector_names), dtype=np.float32)
    n_all = columns.shape[0] * 7
    out[:n_all] = describe(columns, times).reshape(-1)
    n_voiced = rows.shape[0] * 7
    out[n_all : n_all + n_voiced] = describe_masked(rows, mask, times).reshape(-1)
    out[n_all + n_voiced :] = temporal(voiced, columns[col["loudness"]], frame_rate)
    return out

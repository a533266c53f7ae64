"""Utterance functionals: frame matrix -> one fixed-length vector.

Every column gets mean, std, 10/50/90th percentiles, range (p90 - p10, robust to outliers) and
linear slope over time (per second). Pitch and voice-quality columns are summarised again over
voiced frames only, and a few rhythm measures describe the voiced/unvoiced segmentation.
Percentiles come from one sort of the (columns, frames) matrix, which is much faster than
np.percentile and gives the same linearly interpolated values. The voiced-only rows join that
sort (excluded frames sort to the end), so one pass of numpy calls serves both summaries.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .layout import PERCENTILES, TEMPORAL, Layout

_QUANTILES = np.asarray(PERCENTILES) / 100.0
_LAST = np.finfo(np.float32).max  # excluded entries sort to the end
_N_STATS = 7


def _percentiles_into(dst: np.ndarray, ordered: np.ndarray, counts: np.ndarray) -> None:
    """Linearly interpolated percentiles of each sorted row's first counts[i] entries, written
    to dst (len(PERCENTILES), rows). Rows with counts[i] == 0 get their first entry."""
    n_rows, n = ordered.shape
    position = _QUANTILES[:, None] * (counts - 1.0)  # float64, like np.percentile
    frac = np.empty(position.shape, dtype=np.float32)
    picks = np.empty((2, *position.shape))  # floor and ceil positions
    np.modf(position, out=(frac, picks[0]), casting="same_kind")
    np.ceil(position, out=picks[1])
    # The upper pick is the ceil: it equals the floor exactly when frac == 0, where it does not
    # change the (finite) result. Flat picks are cheaper than fancy indexing.
    picks += np.arange(0, n_rows * n, n, dtype=np.float64)
    low, high = ordered.take(picks.astype(np.intp))
    high -= low
    high *= frac
    np.add(low, high, out=dst)


def _time_slope_weights(times: np.ndarray) -> np.ndarray | None:
    """w such that rows @ w is each row's least-squares slope over ``times``; None if undefined."""
    t = times - np.add.reduce(times) / times.size
    spread = t @ t
    if not spread > 0:
        return None
    return np.divide(t, spread, out=np.empty(t.shape, dtype=np.float32), casting="same_kind")


def _describe_into(
    stats: np.ndarray,
    full: np.ndarray,
    rows: np.ndarray,
    mask: np.ndarray,
    times: np.ndarray,
) -> None:
    """Statistics of ``full`` (F, n) over all frames and of ``rows`` (V, n) over ``mask`` only,
    written to ``stats`` (F + V, 7). ``n`` must be > 0.

    Full rows: mean and std of the sorted row, slope from one product with fixed weights.
    Masked rows: weighted sums in frame order (weights 0/1), slope as covariance / spread.
    One sort and one pass of numpy calls serve both kinds of rows; statistics are gathered
    as (7, rows), where every operation runs on contiguous vectors, and transposed at the end.
    """
    n_full, n = full.shape
    work = np.empty((n_full + rows.shape[0], n), dtype=np.float32)
    work[:n_full] = full
    masked = work[n_full:]
    masked.fill(_LAST)
    np.copyto(masked, rows, where=mask)
    work.sort(axis=1)

    by_stat = np.empty((_N_STATS, work.shape[0]), dtype=np.float32)
    mean, std, pct, spread, slope = by_stat[0], by_stat[1], by_stat[2:5], by_stat[5], by_stat[6]
    weights = mask.astype(np.float32)
    counts = np.empty(work.shape[0])  # float64, exact
    counts[:n_full] = n
    np.add.reduce(weights, axis=1, out=counts[n_full:])
    # float64 1 / count rounded to float32 equals the float32 division
    scale = np.divide(1.0, np.maximum(counts, 1.0)).astype(np.float32)
    np.add.reduce(work[:n_full], axis=1, out=mean[:n_full])
    np.einsum("ij,ij->i", rows, weights, out=mean[n_full:])
    mean *= scale

    _percentiles_into(pct, work, counts)
    pct[:, n_full:] *= counts[n_full:] > 0
    np.subtract(pct[2], pct[0], out=spread)

    # Centred values overwrite the sorted ones: full rows in sorted order (as their mean),
    # masked rows in frame order with excluded frames zeroed (as their weighted sums).
    centred = work
    np.subtract(work[:n_full], mean[:n_full, None], out=centred[:n_full])
    np.subtract(rows, mean[n_full:, None], out=centred[n_full:])
    centred[n_full:] *= weights
    np.einsum("ij,ij->i", centred, centred, out=std)
    std *= scale
    np.sqrt(std, out=std)

    w = _time_slope_weights(times)
    if w is None:
        slope[:n_full] = 0.0
    else:
        np.matmul(full, w, out=slope[:n_full])
    t = times.astype(np.float32)
    t_mean = weights @ t
    t_mean *= scale[n_full:]
    dt = np.subtract(t, t_mean[:, None])
    dt *= weights
    t_spread = np.einsum("ij,ij->i", dt, dt)
    covariance = np.einsum("ij,ij->i", dt, centred[n_full:])
    slope[n_full:] = np.where(
        t_spread > 0, covariance / np.maximum(t_spread, np.float32(1e-12)), 0.0
    )
    stats[...] = by_stat.T


def describe(rows: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(C, n) series sampled at ``times`` seconds -> (C, 7) statistics; zeros when n == 0."""
    out = np.zeros((rows.shape[0], _N_STATS), dtype=np.float32)
    if rows.shape[1]:
        _describe_into(out, rows, rows[:0], np.zeros((0, rows.shape[1]), bool), times)
    return out


def describe_masked(rows: np.ndarray, mask: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Like ``describe`` but each row only over its own mask: (C, T) values, (C, T) bool.

    Excluded entries sort to the end, so one sort serves every row whatever its count.
    """
    out = np.zeros((rows.shape[0], _N_STATS), dtype=np.float32)
    if rows.shape[1]:
        _describe_into(out, rows[:0], rows, mask, times)
    return out


def temporal(voiced: np.ndarray, loudness: np.ndarray, frame_rate: float) -> np.ndarray:
    """Voiced fraction, voiced segments per second, mean voiced and unvoiced segment length (s),
    loudness peaks per second."""
    n = voiced.size
    duration = n / frame_rate
    # Runs of a bool array as bytes: bytes.count / find are C loops without numpy call overhead.
    flags = voiced.tobytes()
    n_voiced = flags.count(1)
    starts = flags.count(b"\x00\x01") + flags[0]  # "01" cannot overlap itself
    # Unvoiced frames between the first and the last voiced frame form the gaps.
    gap_frames, gaps = 0, max(starts - 1, 0)
    if gaps:
        gap_frames = flags.rindex(1) - flags.index(1) + 1 - n_voiced
    peaks = 0
    if n >= 3:
        mid = loudness[1:-1]
        peak = mid > loudness[:-2]
        peak &= mid >= loudness[2:]
        peaks = int(np.count_nonzero(peak))
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
    n_full, n = columns.shape
    voiced_rows, always = _voiced_only(lay.voiced_rows, lay.perturbation_rows)
    times = np.arange(n, dtype=np.float64)
    times *= 1.0 / frame_rate
    voiced = columns[lay.column["voiced"]] > 0.5
    rows = columns.take(voiced_rows, axis=0)
    # Voiced frames; jitter/shimmer rows additionally only where defined (> 0).
    mask = rows > 0
    mask |= always
    mask &= voiced
    out = np.empty(len(lay.vector_names), dtype=np.float32)
    n_stats = (n_full + rows.shape[0]) * _N_STATS
    _describe_into(out[:n_stats].reshape(-1, _N_STATS), columns, rows, mask, times)
    out[n_stats:] = temporal(voiced, columns[lay.column["loudness"]], frame_rate)
    return out


@lru_cache(maxsize=8)
def _voiced_only(
    voiced_rows: tuple[int, ...], perturbation_rows: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the voiced-only summary and a (V, 1) bool column: True where a row
    needs no '> 0' check (all but jitter/shimmer)."""
    always = np.ones((len(voiced_rows), 1), dtype=bool)
    always[list(perturbation_rows)] = False
    return np.asarray(voiced_rows, dtype=np.intp), always

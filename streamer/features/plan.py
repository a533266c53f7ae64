"""Everything precomputed for one config, built once and cached (the hot path only looks it up)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.sparse
from scipy import fft as sfft

from . import filters
from .config import FeatureConfig
from .layout import Layout, layout


@dataclass(frozen=True)
class PitchGeometry:
    rate: float  # decimated sample rate
    hop: int  # frame hop at that rate
    min_lag: int  # shortest period searched (f0_max)
    max_lag: int  # longest period searched (f0_min)
    width: int  # YIN integration window W (one period of the lowest F0)
    n_lags: int  # lags 0 .. n_lags-1 are computed (>= max_lag + 2, a multiple of 16)
    span: int  # samples per pitch frame: W + n_lags - 1
    lead: int  # frame start before its centre (so [0, W) and [tau, tau + W) straddle it)
    n_fft: int  # FFT size for the correlations, >= span


@dataclass(frozen=True)
class Plan:
    config: FeatureConfig
    layout: Layout
    window: np.ndarray  # (win_length,)
    offset: int  # first sample of the window inside the n_fft frame
    mel: scipy.sparse.csr_matrix  # (n_mels, n_bins), ~2 non-zeros per bin
    power_proj: np.ndarray  # (n_chroma + 2, n_bins): [chroma | alpha low | alpha high]
    mean_row: np.ndarray  # (n_bins,) 1 / n_bins
    magnitude_proj: np.ndarray  # (4 + n_blocks, n_bins): [1, f, f^2 | roll-off block starts]
    rolloff_steps: np.ndarray  # (ROLLOFF_BLOCK, 1) intp 0 .. ROLLOFF_BLOCK - 1
    log_proj: np.ndarray  # (3, n_bins): [mean, slope 0-500 Hz, slope 500-1500 Hz]
    hammarberg_low: slice  # bins 0-2 kHz
    hammarberg_high: slice  # bins 2-5 kHz
    contrast: tuple[filters.ContrastBand, ...]
    dct: np.ndarray  # (n_mfcc, n_mels)
    delta_taps: np.ndarray  # (2, delta_width): first and second derivative
    hz_per_bin: float
    pitch: PitchGeometry


def _pitch_geometry(config: FeatureConfig) -> PitchGeometry:
    rate = config.sample_rate / config.pitch_decimation
    min_lag = int(np.floor(rate / config.f0_max_hz))
    max_lag = int(np.ceil(rate / config.f0_min_hz))
    width = max_lag + 1
    n_lags = -(-(max_lag + 2) // 16) * 16
    span = width + n_lags - 1
    lead = (width + (min_lag + max_lag) // 2) // 2
    n_fft = -(-sfft.next_fast_len(span, real=True) // 16) * 16  # blocks of 16 in pitch.py
    return PitchGeometry(
        rate=rate,
        hop=config.hop_length // config.pitch_decimation,
        min_lag=min_lag,
        max_lag=max_lag,
        width=width,
        n_lags=n_lags,
        span=span,
        lead=lead,
        n_fft=n_fft,
    )


ROLLOFF_BLOCK = 16  # bins per block of the roll-off running sum (spectral.rolloff)


def _block_starts(n_bins: int, block: int) -> np.ndarray:
    """(n_blocks + 1, n_bins): row b sums the bins before block b (row 0 is zeros, the last row
    sums every bin); n_blocks = ceil(n_bins / block)."""
    n_blocks = -(-n_bins // block)
    starts = np.minimum(np.arange(n_blocks + 1) * block, n_bins)
    return (np.arange(n_bins)[None, :] < starts[:, None]).astype(np.float32)


@lru_cache(maxsize=8)
def plan(config: FeatureConfig) -> Plan:
    freq = filters.fft_frequencies(config)
    n_bins = freq.size
    hz_per_bin = config.sample_rate / config.n_fft
    power_proj = np.concatenate(
        [
            filters.chroma_filterbank(config),
            filters.band_mask(config, 50.0, 1000.0)[None],
            filters.band_mask(config, 1000.0, 5000.0)[None],
        ]
    )
    log_proj = np.stack(
        [
            np.full(n_bins, 1.0 / n_bins, dtype=np.float32),
            filters.slope_weights(config, 0.0, 500.0),
            filters.slope_weights(config, 500.0, 1500.0),
        ]
    )
    return Plan(
        config=config,
        layout=layout(config),
        window=filters.window(config),
        offset=(config.n_fft - config.win_length) // 2,
        mel=scipy.sparse.csr_matrix(filters.mel_filterbank(config)),
        power_proj=np.ascontiguousarray(power_proj, dtype=np.float32),
        mean_row=np.full(n_bins, 1.0 / n_bins, dtype=np.float32),
        magnitude_proj=np.concatenate(
            [np.stack([np.ones(n_bins), freq, freq**2]), _block_starts(n_bins, ROLLOFF_BLOCK)]
        ).astype(np.float32),
        rolloff_steps=np.arange(ROLLOFF_BLOCK, dtype=np.intp)[:, None],
        log_proj=np.ascontiguousarray(log_proj),
        hammarberg_low=slice(0, int(2000 // hz_per_bin) + 1),
        hammarberg_high=slice(int(np.ceil(2000 / hz_per_bin)), int(5000 // hz_per_bin) + 1),
        contrast=filters.contrast_bands(config),
        dct=filters.dct_matrix(config.n_mels, config.n_mfcc),
        delta_taps=np.stack(
            [filters.savgol_coefficients(config.delta_width, order) for order in (1, 2)]
        ),
        hz_per_bin=hz_per_bin,
        pitch=_pitch_geometry(config),
    )


_TRIANGLES: dict[tuple[int, bool], np.ndarray] = {}
_STRICT: dict[int, np.ndarray] = {}


def triangle(n: int, upper: bool = False) -> np.ndarray:
    """(n, n) float32 ones on and below the diagonal (``upper``: on and above). ``L @ x`` is the
    running sum down the rows of x, ``x @ U`` along its columns. np.cumsum is not vectorised
    and is several times slower than these small products."""
    key = (n, upper)
    if key not in _TRIANGLES:
        ones = np.ones((n, n), dtype=np.float32)
        _TRIANGLES[key] = np.triu(ones) if upper else np.tril(ones)
    return _TRIANGLES[key]


def strict_upper(n: int) -> np.ndarray:
    """(n, n) float32 ones strictly above the diagonal: ``x @ S`` sums the earlier columns."""
    if n not in _STRICT:
        _STRICT[n] = np.triu(np.ones((n, n), dtype=np.float32), k=1)
    return _STRICT[n]

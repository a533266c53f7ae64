"""Fixed analysis matrices (window, mel, DCT, chroma, band edges, Savitzky-Golay taps).

The mel and chroma banks reproduce librosa's constructions exactly (``librosa.filters.mel`` and
``librosa.filters.chroma`` with tuning 0) so the shared descriptors agree with librosa, without
making librosa a runtime dependency. All are plain functions of the config; ``plan`` caches them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import FeatureConfig


def fft_frequencies(config: FeatureConfig) -> np.ndarray:
    return np.linspace(0.0, config.sample_rate / 2, config.n_fft // 2 + 1)


def _slaney_constants() -> tuple[float, float, float, float]:
    f_sp = 200.0 / 3  # Slaney: linear below 1 kHz, logarithmic above
    min_log_hz = 1000.0
    return f_sp, min_log_hz, min_log_hz / f_sp, np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray | float, htk: bool) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    f_sp, min_log_hz, min_log_mel, logstep = _slaney_constants()
    log = min_log_mel + np.log(np.maximum(hz, min_log_hz) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log, hz / f_sp)


def mel_to_hz(mel: np.ndarray | float, htk: bool) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    f_sp, min_log_hz, min_log_mel, logstep = _slaney_constants()
    log = min_log_hz * np.exp(logstep * (mel - min_log_mel))
    return np.where(mel >= min_log_mel, log, f_sp * mel)


def window(config: FeatureConfig) -> np.ndarray:
    """Periodic Hann of win_length (scipy/librosa 'hann'), float32."""
    n = config.win_length
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


def mel_filterbank(config: FeatureConfig) -> np.ndarray:
    """(n_mels, n_fft//2+1) float32 triangular filters, as librosa.filters.mel."""
    htk = config.mel_htk
    mels = np.linspace(
        hz_to_mel(config.fmin_hz, htk), hz_to_mel(config.fmax_hz, htk), config.n_mels + 2
    )
    mel_f = mel_to_hz(mels, htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_frequencies(config))
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if config.mel_slaney_norm:
        weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) orthonormal DCT-II: ``D @ x == scipy.fft.dct(x, norm='ortho')[:n_out]``."""
    n = np.arange(n_in)[None, :]
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] *= np.sqrt(0.5)
    return basis.astype(np.float32)


def chroma_filterbank(config: FeatureConfig) -> np.ndarray:
    """(n_chroma, n_fft//2+1) float32; librosa.filters.chroma(tuning=0, ctroct=5, octwidth=2)."""
    n_chroma, n_fft, sr = config.n_chroma, config.n_fft, config.sample_rate
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * np.log2(frequencies / (440.0 / 16))
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    dist = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    dist = np.remainder(dist + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * dist / binwidthbins[None, :]) ** 2)
    norms = np.sqrt(np.sum(wts**2, axis=0, keepdims=True))
    wts = wts / np.where(norms < np.finfo(wts.dtype).tiny, 1.0, norms)
    wts *= np.exp(-0.5 * ((frqbins / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : 1 + n_fft // 2], dtype=np.float32)


@dataclass(frozen=True)
class ContrastBand:
    start: int  # first bin of the sub-band
    stop: int  # one past the last bin
    k: int  # how many extreme bins average into the peak and into the valley


def contrast_bands(config: FeatureConfig) -> tuple[ContrastBand, ...]:
    """Octave sub-bands exactly as ``librosa.feature.spectral_contrast`` selects them."""
    freq = fft_frequencies(config)
    n_bands = config.contrast_bands
    octa = np.zeros(n_bands + 2)
    octa[1:] = config.contrast_fmin_hz * 2.0 ** np.arange(0, n_bands + 1)
    bands = []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:], strict=True)):
        member = (freq >= f_low) & (freq <= f_high)
        idx = np.flatnonzero(member)
        if k > 0:
            member[idx[0] - 1] = True
        if k == n_bands:
            member[idx[-1] + 1 :] = True
        chosen = np.flatnonzero(member)
        stop = chosen[-1] + 1 if k == n_bands else chosen[-1]  # librosa drops the top bin
        quant = int(max(np.rint(config.contrast_quantile * member.sum()), 1))
        bands.append(ContrastBand(start=int(chosen[0]), stop=int(stop), k=quant))
    return tuple(bands)


def band_mask(config: FeatureConfig, lo_hz: float, hi_hz: float) -> np.ndarray:
    """1.0 for bins with lo <= f < hi."""
    freq = fft_frequencies(config)
    return ((freq >= lo_hz) & (freq < hi_hz)).astype(np.float32)


def slope_weights(config: FeatureConfig, lo_hz: float, hi_hz: float) -> np.ndarray:
    """w with ``w @ ln(P)`` = least-squares slope of 10*log10(P) over [lo, hi] Hz, in dB/kHz."""
    freq = fft_frequencies(config)
    member = (freq >= lo_hz) & (freq <= hi_hz)
    centred = np.where(member, freq / 1000.0 - np.mean(freq[member] / 1000.0), 0.0)
    return (centred / np.sum(centred**2) * (10.0 / np.log(10.0))).astype(np.float32)


def savgol_coefficients(width: int, order: int) -> np.ndarray:
    """Savitzky-Golay derivative taps with polyorder == order (what librosa.feature.delta uses):
    ``y[t] = sum_j taps[j] * x[t + j - width // 2]``."""
    half = width // 2
    n = np.arange(-half, half + 1, dtype=np.float64)
    vander = np.vander(n, order + 1, increasing=True)  # columns n^0 .. n^order
    coeffs = np.linalg.pinv(vander)[order] * float(np.prod(np.arange(1, order + 1)))
    return coeffs.astype(np.float32)

"""Vectorised YIN pitch tracker with a voicing decision.

On a 2x decimated copy of the signal (8 kHz by default; F0 needs no more), for every frame at
once: the YIN difference d(tau) = sum_{j<W} (x_j - x_{j+tau})^2 = E_a + E_b(tau) - 2 r(tau) from
one batched FFT cross-correlation r and sliding-window energies E; the cumulative-mean-normalised
difference (CMNDF); the first dip under ``yin_threshold`` followed down to its minimum (else the
global minimum); parabolic refinement of the period on d. The CMNDF at the period is the
aperiodicity; a frame is voiced when it is below ``voicing_threshold`` and the frame is not
near-silent (``voicing_min_rms_db``). The normalised correlation at the period,
r = 1 - d / (E_a + E_b), gives the harmonics-to-noise ratio 10 log10(r / (1 - r)), limited to
+-40 dB (-40 dB for near-silent frames).

With ``pitch_stride`` 2 (the default) pitch frames are 20 ms apart; ``upsample`` fills the
frames in between. Every frame of the one-shot extractor depends only on samples near it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from .plan import PitchGeometry, Plan, strict_upper, triangle
from .stft import frame_view

HNR_LIMIT_DB = 40.0


@dataclass(frozen=True)
class PitchTrack:
    """Per pitch frame, i.e. every ``pitch_stride``-th STFT frame (see ``upsample``)."""

    f0_hz: np.ndarray  # 0 where unvoiced
    voiced: np.ndarray  # bool
    aperiodicity: np.ndarray  # CMNDF at the chosen period, in [0, 1]
    hnr_db: np.ndarray  # harmonics-to-noise ratio from the normalised correlation


def decimate(x: np.ndarray, factor: int) -> np.ndarray:
    """Halve the rate with the binomial low-pass [1 4 6 4 1] (flat within 0.2 dB below 500 Hz,
    -12 dB at the new Nyquist); y[i] is centred on x[2i]. The gain of 16 is left in: every use
    of the signal is scale-free except the silence gate, which accounts for it."""
    if factor == 1:
        return x
    n_out = -(-x.size // 2)
    padded = np.zeros(2 * n_out + 4, dtype=np.float32)
    padded[2 : 2 + x.size] = x
    return _halve(padded, n_out, np.empty(n_out, dtype=np.float32))


def _halve(padded: np.ndarray, n_out: int, out: np.ndarray) -> np.ndarray:
    """``decimate`` by 2 into ``out`` (n_out samples) from ``padded``: x with 2 zeros before and
    at least 2 zeros after it (padded[2 + k] = x[k]). The even and odd samples are copied apart
    first: arithmetic on contiguous arrays is several times faster than on stride-2 views."""
    even, odd = padded[: 2 * n_out + 4].reshape(-1, 2).T.copy()
    # even[i + 1] = x[2i], odd[i + 1] = x[2i + 1]
    np.add(even[:n_out], even[2 : n_out + 2], out=out)
    pair = np.multiply(even[1 : n_out + 1], np.float32(6.0))
    out += pair
    np.add(odd[:n_out], odd[1 : n_out + 1], out=pair)
    pair *= np.float32(4.0)
    out += pair
    return out


DECIMATION_GAIN = {1: 1.0, 2: 16.0}


def track(
    x: np.ndarray, n_frames: int, plan: Plan, zero_padded: np.ndarray | None = None
) -> PitchTrack:
    """F0, voicing, aperiodicity and HNR at every pitch_stride-th of the n_frames STFT frames.

    ``zero_padded``, optional: x with at least 2 zeros before and after it, x = zero_padded[2:
    2 + x.size] (the STFT's padded buffer serves), so decimation needs no copy of its own."""
    config = plan.config
    g = plan.pitch
    stride = config.pitch_stride
    count = -(-n_frames // stride)
    hop = g.hop * stride
    # Frame t starts at c - g.lead (c = t * hop): d(tau) then measures around c for a typical
    # period, like the STFT frame it belongs to.
    lead = g.lead
    n_y = -(-x.size // 2) if config.pitch_decimation == 2 else x.size
    padded = np.zeros(max(n_y + lead, (count - 1) * hop) + g.span + 1, dtype=np.float32)
    if config.pitch_decimation == 1:
        padded[lead : lead + n_y] = x
    elif zero_padded is not None and zero_padded.size >= 2 * n_y + 4:
        _halve(zero_padded, n_y, padded[lead : lead + n_y])
    else:
        padded[lead : lead + n_y] = decimate(x, 2)
    frames = frame_view(padded, g.span, hop, count)

    both = np.zeros((2 * count, g.n_fft), dtype=np.float32)  # rows: a (first W), then b
    both[:count, : g.width] = frames[:, : g.width]
    b_rows = both[count:]
    b_rows[:, : g.span] = frames
    e_b = _window_energies(b_rows, g)  # E_b(tau) = sum_{j<W} b_{j+tau}^2
    spectra = sfft.rfft(both, axis=1, overwrite_x=True)
    product = np.conj(spectra[:count])
    product *= spectra[count:]
    corr = sfft.irfft(product, n=g.n_fft, axis=1)[:, : g.n_lags]  # r(tau) = sum a_j b_{j+tau}
    e_a = e_b[:, 0]
    diff = e_b + e_a[:, None]
    corr *= np.float32(2.0)
    diff -= corr
    np.maximum(diff, 0.0, out=diff)
    diff[:, 0] = 0.0
    cmndf = _cmndf(diff, g)
    period, aperiodicity, d_min = _pick_period(cmndf, diff, g, config.yin_threshold)

    gain = DECIMATION_GAIN[config.pitch_decimation]
    min_energy = np.float32(g.width * (gain * 10.0 ** (config.voicing_min_rms_db / 20.0)) ** 2)
    audible = e_a > min_energy
    voiced = (aperiodicity < config.voicing_threshold) & audible
    f0 = np.where(voiced, g.rate / period, 0.0).astype(np.float32)
    at = np.rint(period).astype(np.intp)
    at += np.arange(0, count * g.n_lags, g.n_lags)  # flat positions in e_b
    similarity = 1.0 - d_min / np.maximum(e_a + e_b.take(at), np.float32(1e-30))
    limit = 10.0 ** (-HNR_LIMIT_DB / 10.0)
    similarity = np.minimum(np.maximum(similarity, limit / (1 + limit)), 1.0 / (1 + limit))
    hnr = 10.0 * np.log10(similarity / (1.0 - similarity))
    hnr = np.where(audible, hnr, -HNR_LIMIT_DB).astype(np.float32)  # silence: no harmonics
    return PitchTrack(f0_hz=f0, voiced=voiced, aperiodicity=aperiodicity, hnr_db=hnr)


def _window_energies(rows: np.ndarray, g: PitchGeometry) -> np.ndarray:
    """(count, n_lags): sum of rows[:, tau : tau + W] ** 2 for every lag, from per-row prefix
    sums built in blocks of 16 (two small triangular products instead of np.cumsum)."""
    count, n = rows.shape
    square = np.square(rows)
    blocks = (square.reshape(-1, 16) @ triangle(16, upper=True)).reshape(count, n // 16, 16)
    blocks += (blocks[:, :, -1] @ strict_upper(n // 16))[:, :, None]
    prefix = blocks.reshape(count, n)  # prefix[:, k] = sum of square[:, : k + 1]
    energies = prefix[:, g.width - 1 : g.width - 1 + g.n_lags].copy()
    energies[:, 1:] -= prefix[:, : g.n_lags - 1]
    return energies


def _cmndf(diff: np.ndarray, g: PitchGeometry) -> np.ndarray:
    """d(tau) * tau / sum_{1<=k<=tau} d(k), with cmndf(0) = 1 and silence (d == 0) reading 1.

    The running sum over lags is done in blocks of 16 with small triangular products.
    """
    count, n_lags = diff.shape
    n_blocks = n_lags // 16
    running = (diff.reshape(-1, 16) @ triangle(16, upper=True)).reshape(count, n_blocks, 16)
    running += (running[:, :, -1] @ strict_upper(n_blocks))[:, :, None]  # earlier blocks
    cumulative = running.reshape(count, n_lags)
    floor = np.float32(1e-12 * g.width)
    cmndf = diff * np.arange(n_lags, dtype=np.float32)
    cmndf += floor
    cumulative += floor
    cmndf /= cumulative
    cmndf[:, 0] = 1.0
    return cmndf


def _pick_period(
    cmndf: np.ndarray, diff: np.ndarray, g: PitchGeometry, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YIN's absolute threshold: the first lag in [min_lag, max_lag] below threshold, followed
    down to the bottom of its dip (= the first lag below threshold whose successor is not
    lower); the global minimum when nothing is below threshold. A parabola through d around
    that lag refines it. Returns the period (samples), the aperiodicity and d at the vertex.

    Per-row picks use flat indices into the contiguous (count, n_lags) arrays: ``take`` is
    several times cheaper than fancy indexing with row and column arrays."""
    lo, hi = g.min_lag, g.max_lag
    count, n_lags = cmndf.shape
    search = cmndf[:, lo : hi + 1]
    bottom = search < threshold
    bottom &= search <= cmndf[:, lo + 1 : hi + 2]
    first = np.argmax(bottom, axis=1)
    width = hi + 1 - lo
    found = bottom.take(first + np.arange(0, count * width, width))
    best = np.where(found, first, np.argmin(search, axis=1))
    best += lo
    flat = best + np.arange(0, count * n_lags, n_lags)
    left, centre, right = diff.take(flat - 1), diff.take(flat), diff.take(flat + 1)
    aperiodicity = np.minimum(np.maximum(cmndf.take(flat), 0.0), 1.0)
    curvature = left + right
    curvature -= 2.0 * centre
    shift = (left - right) * np.float32(0.5) / np.maximum(curvature, np.float32(1e-30))
    shift = np.where(curvature > 0, np.minimum(np.maximum(shift, -0.5), 0.5), 0.0)
    vertex = centre - (left - right) * shift * np.float32(0.25)
    return best + shift, aperiodicity, np.maximum(vertex, 0.0)


def upsample(values: np.ndarray, out: np.ndarray, stride: int) -> np.ndarray:
    """Pitch-frame values (last axis) -> ``out`` with one column per STFT frame: frames in
    between get the mean of their two neighbours (the last one, if it has no right neighbour,
    the value before it). A copy for stride 1."""
    if stride == 1:
        out[...] = values
        return out
    out[..., ::2] = values
    odd = out[..., 1::2]
    paired = min(odd.shape[-1], values.shape[-1] - 1)  # odd frames with a right neighbour
    np.add(values[..., :paired], values[..., 1 : paired + 1], out=odd[..., :paired])
    if paired < odd.shape[-1]:
        np.add(values[..., paired:], values[..., paired:], out=odd[..., paired:])
    odd *= np.float32(0.5)
    return out

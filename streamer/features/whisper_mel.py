"""Whisper's log-mel spectrogram in numpy, for a Whisper-encoder front-end at run time.

The pretrained encoder only sees what Whisper's own front-end makes, so this reproduces OpenAI
Whisper's ``log_mel_spectrogram`` step by step: 16 kHz, periodic Hann window of 400, hop 160,
centred STFT with reflect padding, the last frame dropped, power spectrum, 80 Slaney-normalised
mel bands, ``log10(max(x, 1e-10))``, floor at (maximum - 8), then ``(x + 4) / 4``.

Unlike Whisper's transcriber the utterance is **not** padded to 30 s: the output has the
utterance's own ``len(samples) // 160`` frames (the encoder is cut and slices its positions to
the input's length). The (maximum - 8) floor is taken over this utterance alone; with 30 s of
padding Whisper would take it over the padded input, which has the same maximum.

Very short input: reflect padding needs at least ``n_fft // 2 + 1`` samples, so shorter input
is first extended with zeros to that length (Whisper's transcriber also appends zeros: its
30-s padding), and still yields ``len(samples) // 160`` frames: none below 160 samples.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
N_MELS = 80
LOG_FLOOR = 1e-10  # power floor before log10
DYNAMIC_RANGE = 8.0  # log10 units kept below the utterance's maximum (80 dB)


def mel_spec_text() -> str:
    """The parameters as one line, for the metadata of a model that expects these features."""
    return (
        f"whisper-log-mel sr={SAMPLE_RATE} n_fft={N_FFT} hop={HOP_LENGTH} n_mels={N_MELS} "
        "window=hann-periodic center=reflect drop_last=1 power=2 mel=slaney "
        f"log10-floor={LOG_FLOOR:g} range={DYNAMIC_RANGE:g} scale=(x+4)/4"
    )


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear (3 per 200 Hz) below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3.0)
    log_step = np.log(6.4) / 27.0
    safe = np.maximum(hz, 1000.0)
    return np.where(hz >= 1000.0, 15.0 + np.log(safe / 1000.0) / log_step, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mel >= 15.0, 1000.0 * np.exp(log_step * (mel - 15.0)), mel * 200.0 / 3.0)


@lru_cache(maxsize=4)
def mel_filters(
    sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS
) -> np.ndarray:
    """(n_mels, n_fft//2 + 1) float32 triangular filters, Slaney area normalisation, 0..sr/2.

    The same bank as ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)``, which Whisper ships
    as a constant; computed here so the runtime needs no librosa. Read-only (cached)."""
    fft_hz = np.linspace(0.0, sample_rate / 2.0, 1 + n_fft // 2)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    widths = np.diff(edges_hz)
    distance = edges_hz[:, None] - fft_hz[None, :]
    rising = -distance[:-2] / widths[:-1, None]
    falling = distance[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    filters = weights.astype(np.float32)
    filters.flags.writeable = False
    return filters


@lru_cache(maxsize=4)
def hann_periodic(n: int = N_FFT) -> np.ndarray:
    """The periodic Hann window (torch.hann_window's default), float32, read-only."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    window.flags.writeable = False
    return window


def n_frames(n_samples: int) -> int:
    """Frames for ``n_samples``: Whisper's centred STFT count minus its dropped last frame."""
    return n_samples // HOP_LENGTH


def _padded(x: np.ndarray) -> np.ndarray:
    """Reflect-pad n_fft//2 each side; input too short to reflect is zero-extended first."""
    half = N_FFT // 2
    if x.size < half + 1:
        x = np.concatenate([x, np.zeros(half + 1 - x.size, dtype=np.float32)])
    return np.pad(x, half, mode="reflect")


def power_spectrogram(samples: np.ndarray) -> np.ndarray:
    """(n_fft//2 + 1, n_frames) float32 |STFT|^2 with Whisper's framing."""
    x = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    count = n_frames(x.size)
    if count == 0:
        return np.zeros((N_FFT // 2 + 1, 0), dtype=np.float32)
    padded = _padded(x)
    frames = np.lib.stride_tricks.as_strided(
        padded, (count, N_FFT), (HOP_LENGTH * padded.itemsize, padded.itemsize), writeable=False
    )
    spectrum = np.fft.rfft(frames * hann_periodic(), axis=1)
    power = np.square(spectrum.real) + np.square(spectrum.imag)
    return power.astype(np.float32, copy=False).T


def log_mel_spectrogram(samples: np.ndarray) -> np.ndarray:
    """Whisper's scaled log-mel of 16 kHz mono audio: (80, len(samples) // 160) float32.

    Non-finite samples are the caller's business (the stream conditions its input upstream)."""
    mel = mel_filters() @ power_spectrogram(samples)
    if mel.shape[1] == 0:
        return mel
    log_spec = np.log10(np.maximum(mel, np.float32(LOG_FLOOR)))
    np.maximum(log_spec, log_spec.max() - np.float32(DYNAMIC_RANGE), out=log_spec)
    log_spec += np.float32(4.0)
    log_spec /= np.float32(4.0)
    return log_spec.astype(np.float32, copy=False)

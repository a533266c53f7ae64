"""The call's audio reduced to what a picture can show: a min/max envelope and a spectrogram.

The file is read in blocks and reduced as it goes, so an hour-long call never sits in memory
whole; the number of envelope points and spectrogram columns is fixed, whatever the length.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from streamer.report.timeline import ReportError
from streamer.sources import SourceStats
from streamer.sources.bad_samples import replace_bad_samples

ENVELOPE_POINTS = 3000
SPECTROGRAM_COLUMNS = 1500
SPECTROGRAM_MAX_HZ = 8000.0  # speech lives below this; higher bands would only add noise
BLOCK_SAMPLES = 1 << 16


@dataclass(frozen=True)
class AudioView:
    path: Path
    duration_s: float
    sample_rate_hz: int
    channels: int  # of the file; the pictures show their mix
    envelope_t: np.ndarray  # seconds, centre of each envelope bucket
    envelope_min: np.ndarray
    envelope_max: np.ndarray
    spectrogram_t: np.ndarray  # seconds, centre of each column
    spectrogram_hz: np.ndarray
    spectrogram_db: np.ndarray  # (len(spectrogram_hz), len(spectrogram_t)), dB re full scale


class _Envelope:
    """Min and max of consecutive buckets of ``bucket`` samples."""

    def __init__(self, bucket: int) -> None:
        self.bucket = bucket
        self.carry = np.zeros(0, dtype=np.float32)
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []

    def feed(self, x: np.ndarray) -> None:
        x = np.concatenate([self.carry, x])
        whole = len(x) // self.bucket * self.bucket
        if whole:
            buckets = x[:whole].reshape(-1, self.bucket)
            self.lo.append(buckets.min(axis=1))
            self.hi.append(buckets.max(axis=1))
        self.carry = x[whole:]

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if len(self.carry):
            self.lo.append(self.carry.min(keepdims=True))
            self.hi.append(self.carry.max(keepdims=True))
        empty = np.zeros(0, dtype=np.float32)
        return (
            np.concatenate(self.lo) if self.lo else empty,
            np.concatenate(self.hi) if self.hi else empty,
        )


class _Spectrogram:
    """Power spectra of ``n_fft``-sample Hann windows starting every ``hop`` samples."""

    def __init__(self, n_fft: int, hop: int) -> None:
        self.n_fft, self.hop = n_fft, hop
        self.window = np.hanning(n_fft).astype(np.float32)
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = 0  # stream index of buffer[0]
        self.next_start = 0  # stream index where the next window starts
        self.columns: list[np.ndarray] = []

    def feed(self, x: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, x])
        while self.next_start + self.n_fft <= self.buffer_start + len(self.buffer):
            at = self.next_start - self.buffer_start
            frame = self.buffer[at : at + self.n_fft] * self.window
            self.columns.append(np.abs(np.fft.rfft(frame)) ** 2)
            self.next_start += self.hop
        drop = min(len(self.buffer), self.next_start - self.buffer_start)
        self.buffer = self.buffer[drop:]
        self.buffer_start += drop

    def finish(self) -> np.ndarray:
        if not self.columns and len(self.buffer):  # shorter than one window: pad it
            self.feed(np.zeros(self.n_fft - len(self.buffer), dtype=np.float32))
        if not self.columns:
            return np.zeros((self.n_fft // 2 + 1, 0))
        return np.stack(self.columns, axis=1)


def read_audio(path: Path) -> AudioView:
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: audio file not found")
    try:
        info = sf.info(os.fsencode(path))
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise ReportError(f"{path}: not a readable audio file ({exc})") from None
    rate, frames = int(info.samplerate), int(info.frames)
    if frames <= 0:
        raise ReportError(f"{path}: holds no audio")
    n_fft = 1 << round(math.log2(0.032 * rate))  # ~32 ms windows: 512 samples at 16 kHz
    hop = max(n_fft // 4, math.ceil(max(0, frames - n_fft) / SPECTROGRAM_COLUMNS))
    envelope = _Envelope(max(1, math.ceil(frames / ENVELOPE_POINTS)))
    spectrogram = _Spectrogram(n_fft, hop)
    bad, read = SourceStats(), 0
    try:
        blocks = sf.blocks(os.fsencode(path), BLOCK_SAMPLES, dtype="float32", always_2d=True)
        for block in blocks:
            # NaN or absurd samples are silence here too (they are not sound; see the source)
            mono = replace_bad_samples(block, bad).mean(axis=1, dtype=np.float32)
            envelope.feed(mono)
            spectrogram.feed(mono)
            read += len(block)
    except (RuntimeError, sf.LibsndfileError) as exc:
        if not read:  # a file cut short still shows what it holds
            raise ReportError(f"{path}: cannot decode audio ({exc})") from None
    frames = min(frames, read)
    lo, hi = envelope.finish()
    power = spectrogram.finish()
    hz = np.fft.rfftfreq(n_fft, 1.0 / rate)
    keep = hz <= min(SPECTROGRAM_MAX_HZ, rate / 2)
    # dB re a full-scale sine's power in one Hann-windowed bin.
    reference = (np.sum(np.hanning(n_fft)) / 2) ** 2
    db = 10 * np.log10(np.maximum(power[keep], 1e-12) / reference)
    return AudioView(
        path=path,
        duration_s=frames / rate,
        sample_rate_hz=rate,
        channels=int(info.channels),
        envelope_t=(np.arange(len(lo)) + 0.5) * envelope.bucket / rate,
        envelope_min=lo,
        envelope_max=hi,
        spectrogram_t=(np.arange(power.shape[1]) * hop + n_fft / 2) / rate,
        spectrogram_hz=hz[keep],
        spectrogram_db=db,
    )

"""Measurements behind an encoder build: reference parity, int8 fidelity, size and speed.

- ``ctranslate2_parity``: our torch rebuild of the full encoder against ctranslate2 itself (the
  reference; training-side only) on 30-s padded input, which is what ctranslate2 accepts;
- ``int8_fidelity``: int8 against fp32, frame by frame and as utterance means (what a pooled
  classifier sees);
- ``timings``: ms per utterance on one thread, the mel separate from the encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from streamer.features import whisper_mel
from training.encoders import export
from training.encoders.ct2_format import Ct2Model
from training.encoders.signals import SR, speech_like
from training.encoders.whisper_torch import from_ct2

THIRTY_S = 30 * SR


def padded_mel(audio: np.ndarray) -> np.ndarray:
    """(80, 3000) log-mel of ``audio`` zero-padded (or cut) to 30 s, as Whisper transcribes."""
    padded = np.zeros(THIRTY_S, dtype=np.float32)
    padded[: min(audio.size, THIRTY_S)] = audio[:THIRTY_S]
    return whisper_mel.log_mel_spectrogram(padded)


def ctranslate2_parity(model_dir: Path, model: Ct2Model, seconds: float = 6.0) -> float | None:
    """Max abs difference of the full encoder (all blocks, final LayerNorm) between ctranslate2
    and our torch module on a generated signal; None when ctranslate2 is not installed."""
    try:
        import ctranslate2
    except ImportError:
        return None
    mel = padded_mel(speech_like(seconds, seed=11))[None]
    reference = ctranslate2.models.Whisper(
        str(model_dir), device="cpu", compute_type="float32", intra_threads=1
    )
    expected = np.array(reference.encode(ctranslate2.StorageView.from_array(mel), to_cpu=True))
    with torch.no_grad():
        ours = from_ct2(model, final_norm=True).eval()(torch.from_numpy(mel)).numpy()
    return float(np.max(np.abs(expected - ours)))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass(frozen=True)
class Fidelity:
    cosines: list[list[float]]  # per clip, per output: cosine of the time-means, int8 vs fp32
    max_abs: list[float]  # per output, over all clips
    relative_rms: list[float]  # per output: RMS(int8 - fp32) / RMS(fp32), over all clips


def int8_fidelity(fp32: Path, int8: Path, clips: Sequence[np.ndarray]) -> Fidelity:
    """How far the int8 file's outputs are from the fp32 file's on ``clips`` (16 kHz audio)."""
    reference, quantised = export.session(fp32), export.session(int8)
    cosines, worst, error, energy = [], None, None, None
    for audio in clips:
        mel = whisper_mel.log_mel_spectrogram(audio)[None]
        pairs = list(zip(reference.run(None, {"mel": mel}), quantised.run(None, {"mel": mel}),
                         strict=True))
        cosines.append([_cosine(x[0].mean(0), y[0].mean(0)) for x, y in pairs])
        diffs = np.array([np.max(np.abs(x - y)) for x, y in pairs], dtype=np.float64)
        squares = np.array([np.sum(np.square(x - y, dtype=np.float64)) for x, y in pairs])
        power = np.array([np.sum(np.square(x, dtype=np.float64)) for x, _ in pairs])
        worst = diffs if worst is None else np.maximum(worst, diffs)
        error = squares if error is None else error + squares
        energy = power if energy is None else energy + power
    if worst is None:
        return Fidelity([], [], [])
    return Fidelity(cosines, worst.tolist(), np.sqrt(error / np.maximum(energy, 1e-30)).tolist())


@dataclass(frozen=True)
class Timing:
    mel_ms: float
    encoder_ms: float


def timings(path: Path, seconds: float = 4.0, repeats: int = 30) -> Timing:
    """Median ms for one ``seconds`` utterance on one thread: log-mel, then the ONNX encoder."""
    audio = speech_like(seconds, seed=4)
    runner = export.session(path, threads=1)
    mel_ms = export.median_ms(lambda: whisper_mel.log_mel_spectrogram(audio), repeats)
    mel = whisper_mel.log_mel_spectrogram(audio)[None]
    encoder_ms = export.median_ms(lambda: runner.run(None, {"mel": mel}), repeats)
    return Timing(mel_ms=mel_ms, encoder_ms=encoder_ms)


def read_clip(path: Path) -> np.ndarray:
    """A recording as 16 kHz mono float32 (mixed down, resampled with soxr if needed)."""
    import soundfile
    import soxr

    audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != SR:
        mono = soxr.resample(mono, rate, SR).astype(np.float32)
    return mono

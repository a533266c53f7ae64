"""Audio loading for training: any corpus file -> 16 kHz mono float32, cut like a live utterance.

Both steps reuse the live code so that training sees what ser-live sees: the sources' downmix
and soxr resampler, then the live VAD segmenter (its gain staging, pre-roll, hang-over and
minimum length from the run's settings, ``ser-train --config`` included) instead of a separate
trimming rule. Corpus clips carry up to a second or more of studio silence that a live
utterance never has. The settings used are recorded in the model's metadata (``segmenter``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from streamer.engine.build import make_segmenter
from streamer.engine.channels import StreamResampler, downmix
from streamer.features import SAMPLE_RATE
from streamer.settings import SegmenterSettings, VadSettings, load_settings

_FALLBACK_TOP_DB = 40.0
_FALLBACK_MARGIN_S = 0.3
_FRAME = 480  # 30 ms at 16 kHz


@dataclass(frozen=True)
class Preparation:
    """The live settings a clip is cut with (the ``[vad]`` and ``[segmenter]`` sections)."""

    vad: VadSettings
    segmenter: SegmenterSettings

    def to_dict(self) -> dict:
        segmenter = dataclasses.asdict(self.segmenter)
        segmenter.pop("partial_every_s", None)  # what ser-live shows meanwhile; it cuts nothing
        return {"vad": dataclasses.asdict(self.vad), "segmenter": segmenter}


def default_preparation() -> Preparation:
    """The shipped config.toml's settings (for tools run without a command line's settings)."""
    settings = load_settings()
    return Preparation(settings.vad, settings.segmenter)


def preparation_key(prep: Preparation) -> str:
    """Everything that shapes a prepared clip; part of the feature cache key."""
    return json.dumps({**prep.to_dict(), "version": 4}, sort_keys=True)


def load(path: Path, prep: Preparation, trim: bool = True) -> np.ndarray:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = StreamResampler(int(rate), SAMPLE_RATE).process(downmix(samples), last=True)
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    return cut_like_live(mono, prep) if trim else mono


def cut_like_live(samples: np.ndarray, prep: Preparation) -> np.ndarray:
    """From the first live utterance's start to the last one's end, as the segmenter cuts them.

    A clip in which the VAD hears nothing (e.g. a whispered or very quiet take) falls back to an
    energy trim, so no labelled clip is silently lost from training.
    """
    segmenter = make_segmenter(prep.vad, prep.segmenter, SAMPLE_RATE)
    vad = segmenter.vad
    if vad.gain is not None:
        # In a call the gain stage has heard speech before this utterance; a fresh one starting
        # at its floor would boost the clip's leading silence by up to 40 dB and cut it longer.
        vad.gain.prime(peak_frame_dbfs(samples))
    utterances = segmenter.feed(samples) + segmenter.flush()
    if not utterances:
        return trim_silence(samples)
    start = int(round(utterances[0].start_s * SAMPLE_RATE))
    stop = int(round(utterances[-1].end_s * SAMPLE_RATE))
    return samples[start:stop].astype(np.float32)


def peak_frame_dbfs(samples: np.ndarray) -> float:
    """Level (dBFS) of the loudest 30 ms frame."""
    n = len(samples) // _FRAME
    if n == 0:
        return -120.0
    frames = samples[: n * _FRAME].reshape(n, _FRAME).astype(np.float64)
    return float(10.0 * np.log10(np.max(np.mean(frames**2, axis=1)) + 1e-12))


def trim_silence(samples: np.ndarray, top_db: float = _FALLBACK_TOP_DB) -> np.ndarray:
    """Cut leading/trailing audio more than ``top_db`` below the loudest 30 ms frame."""
    n = len(samples) // _FRAME
    if n < 2:
        return samples.astype(np.float32)
    frames = samples[: n * _FRAME].reshape(n, _FRAME)
    db = 10.0 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    voiced = np.flatnonzero(db > db.max() - top_db)
    margin = int(_FALLBACK_MARGIN_S * SAMPLE_RATE)
    start = max(0, voiced[0] * _FRAME - margin)
    stop = min(len(samples), (voiced[-1] + 1) * _FRAME + margin)
    return samples[start:stop].astype(np.float32)

"""Whisper-base's encoder, cut after its first blocks, as the front-end (OpenAI Whisper, MIT).

A pretrained speech encoder's middle layer carries what handcrafted functionals cannot: on
voices and languages the model never heard it is the measured lever (issue 20; models/README.md
has the figures). Per utterance:

1. **level**: the samples are scaled so that their loud frames (the 95th percentile of 25 ms
   frame RMS) sit at ``level_dbfs``: Whisper's log-mel moves with input gain, and nothing after
   it would take that out (a call 6 dB quieter changed 5-9 % of the labels without this);
2. Whisper's log-mel (:mod:`streamer.features.whisper_mel`), the utterance's own length, no 30 s
   of padding;
3. the encoder, an ONNX file beside the model (``frontend_file``, checked by its sha256 when the
   model loads), run by onnxruntime on one thread: (frames / 2, 512) hidden states;
4. their mean over time (512 values, ``enc_mean_*``; ``pooling="mean+std"`` adds the standard
   deviation, ``enc_std_*``: it cost held-out corpora 2.5 points of UA), optionally followed by
   named functionals of :mod:`streamer.features` (``prosody``), computed on the levelled
   samples so that they do not move with input gain either.

Utterances over 30 s (the encoder's position table) are encoded in 30 s pieces and pooled over
all of them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np

from streamer import features
from streamer.errors import ModelError
from streamer.features import whisper_mel
from streamer.features.runtime import single_threaded_blas
from streamer.model.backend import load_session

NAME = "whisper-base"
WIDTH = 512  # Whisper-base's model dimension
MAX_FRAMES = 3000  # mel frames the encoder's positions cover (30 s)
MIN_SAMPLES = 1600  # 0.1 s: shorter input is padded with silence (the encoder needs 2 frames)
LEVEL_PERCENTILE = 95.0
LEVEL_FRAME = 400  # 25 ms
LEVEL_HOP = 160
SILENT_DBFS = -90.0  # an utterance whose loud frames are below this is not scaled up


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def loud_level_dbfs(samples: np.ndarray) -> float:
    """The level of an utterance's loud frames: the 95th percentile of 25 ms frame RMS, dBFS."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) < LEVEL_FRAME:
        x = np.pad(x, (0, LEVEL_FRAME - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, LEVEL_FRAME)[::LEVEL_HOP]
    power = np.mean(frames * frames, axis=1)
    return float(10.0 * np.log10(np.percentile(power, LEVEL_PERCENTILE) + 1e-20))


def level_to(samples: np.ndarray, target_dbfs: float) -> np.ndarray:
    """``samples`` scaled so their loud frames sit at ``target_dbfs`` (silence left alone)."""
    level = loud_level_dbfs(samples)
    if level < SILENT_DBFS:
        return np.asarray(samples, dtype=np.float32)
    gain = 10.0 ** ((target_dbfs - level) / 20.0)
    return (np.asarray(samples, dtype=np.float32) * np.float32(gain)).astype(np.float32)


POOLINGS = ("mean", "mean+std")


def pooled_names(pooling: str = "mean", width: int = WIDTH) -> tuple[str, ...]:
    names = tuple(f"enc_mean_{i:03d}" for i in range(width))
    if pooling == "mean+std":
        names += tuple(f"enc_std_{i:03d}" for i in range(width))
    return names


class WhisperEncoder:
    name = NAME
    level_column: str | None = None  # the level is taken out before the mel (step 1)

    def __init__(
        self,
        path: Path,
        sha256: str,
        level_dbfs: float | None = -20.0,
        prosody: tuple[str, ...] = (),
        pooling: str = "mean",
    ) -> None:
        if pooling not in POOLINGS:
            known = ", ".join(POOLINGS)
            raise ModelError(f"front-end {NAME}: unknown pooling {pooling!r} ({known})")
        self.path = Path(path)
        self.sha256 = sha256
        self.level_dbfs = level_dbfs
        self.pooling = pooling
        self.prosody = tuple(prosody)
        unknown = [n for n in self.prosody if n not in features.FEATURE_NAMES]
        if unknown:
            raise ModelError(f"front-end {NAME}: unknown functional columns {unknown[:3]}")
        self._prosody_index = np.array(
            [features.FEATURE_NAMES.index(n) for n in self.prosody], dtype=np.int64
        )
        self.names = pooled_names(pooling) + self.prosody
        self.spec = json.dumps(
            {
                "name": NAME,
                "encoder_sha256": sha256,
                "mel": whisper_mel.mel_spec_text(),
                "pooling": f"{pooling} over time",
                "level": {"percentile": LEVEL_PERCENTILE, "target_dbfs": level_dbfs},
                "prosody": list(self.prosody),
                "functionals": features.feature_spec() if self.prosody else None,
            },
            sort_keys=True,
        )
        self._session = None
        self._lock = threading.Lock()

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], folder: Path) -> WhisperEncoder:
        """The front-end a model names: its encoder file beside the model, checked by sha256."""
        name = metadata.get("frontend_file")
        wanted = metadata.get("frontend_sha256")
        if not name or not wanted:
            raise ModelError(f"front-end {NAME}: the model names no encoder file and sha256")
        path = folder / name
        if not path.is_file():
            raise ModelError(f"front-end {NAME}: encoder file not found: {path}")
        if file_sha256(path) != wanted:
            raise ModelError(f"front-end {NAME}: {path} is not the encoder this model was "
                             f"trained with (sha256 differs from {wanted[:12]}...)")
        level = metadata.get("frontend_level_dbfs", "-20")
        prosody = tuple(json.loads(metadata.get("frontend_prosody", "[]")))
        pooling = metadata.get("frontend_pooling", "mean+std")  # the first models pooled both
        level_dbfs = None if level in ("", "none") else float(level)
        return cls(path, wanted, level_dbfs, prosody, pooling)

    def to_metadata(self) -> dict[str, str]:
        """What a model trained on this front-end stores so that it loads it again."""
        return {
            "frontend": NAME,
            "frontend_file": self.path.name,
            "frontend_sha256": self.sha256,
            "frontend_level_dbfs": "none" if self.level_dbfs is None else f"{self.level_dbfs:g}",
            "frontend_prosody": json.dumps(list(self.prosody)),
            "frontend_pooling": self.pooling,
        }

    def _encoder(self) -> object:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = load_session(self.path, f"front-end {NAME}")
        return self._session

    def levelled(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32)
        return x if self.level_dbfs is None else level_to(x, self.level_dbfs)

    def hidden(self, x: np.ndarray) -> np.ndarray:
        """(frames / 2, 512) encoder states of 16 kHz mono samples (levelled by the caller)."""
        if len(x) < MIN_SAMPLES:
            x = np.pad(x, (0, MIN_SAMPLES - len(x)))
        with single_threaded_blas():
            mel = whisper_mel.log_mel_spectrogram(x)
        session = self._encoder()
        pieces = [
            session.run(None, {"mel": mel[None, :, i : i + MAX_FRAMES]})[0][0]  # type: ignore[attr-defined]
            for i in range(0, mel.shape[1], MAX_FRAMES)
            if mel.shape[1] - i >= 2
        ]
        return np.concatenate(pieces)

    def vector(self, samples: np.ndarray) -> np.ndarray:
        x = self.levelled(samples)
        states = self.hidden(x).astype(np.float64)
        pooled = states.mean(axis=0)
        if self.pooling == "mean+std":
            pooled = np.concatenate([pooled, states.std(axis=0)])
        if not len(self._prosody_index):
            return pooled
        functionals = features.extract_vector(x)
        return np.concatenate([pooled, functionals[self._prosody_index]])

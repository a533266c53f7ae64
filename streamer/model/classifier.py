"""One stream's emotion classifier: front-end -> stream normaliser -> speech gate -> ONNX backend.

- front-end: the registry's (:mod:`streamer.model.frontends`) named in the model — the one
  extractor training also runs — then the columns the model reads (``ModelInfo.columns``);
- normaliser: :class:`~streamer.model.normaliser.StreamNormaliser`, state of *this* stream;
- gate: :mod:`streamer.model.speech_gate`, so noise and music get no emotion and stay out of the
  stream statistics;
- backend: :class:`~streamer.model.backend.OnnxBackend`.

One ``Classifier`` per stream (a microphone session, a file, one channel); ``reset()`` starts a
new stream. The model file format is described in :mod:`streamer.model.metadata`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamer import features
from streamer.errors import ModelError
from streamer.model.backend import PROBABILITIES_OUTPUT, OnnxBackend, read_metadata
from streamer.model.frontends import FrontEnd, frontend_for
from streamer.model.metadata import ModelInfo, check_compatible, parse_metadata
from streamer.model.normaliser import StreamNormaliser
from streamer.model.speech_gate import is_speech

__all__ = [
    "PROBABILITIES_OUTPUT",
    "Assessment",
    "Classifier",
    "ModelError",
    "ModelInfo",
    "check_compatible",
    "parse_metadata",
]


@dataclass(frozen=True)
class Assessment:
    """What the classifier says about one utterance."""

    probabilities: np.ndarray
    speech: bool  # False: the gate judged it noise, music or another non-speech sound
    adapting: bool  # the stream has not yet outweighed the training prior
    normalised: np.ndarray | None  # what the backend read (vector models)


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T): the same ranking, less (T > 1) sure of it."""
    if temperature == 1.0:
        return probs
    z = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def load(path: Path | str) -> tuple[OnnxBackend, FrontEnd]:
    """A model file's backend and front-end, checked against each other and this ser-live."""
    path = Path(path)
    origin = str(path)
    session, metadata = read_metadata(path)
    frontend = frontend_for(metadata, path.parent, origin)
    info = parse_metadata(metadata, origin, frontend.names)
    check_compatible(info, origin, frontend.spec)
    return OnnxBackend(session, info, path), frontend


class Classifier:
    """Per-utterance probabilities for one stream, from an ONNX model (one CPU thread)."""

    def __init__(self, path: Path | str) -> None:
        self.backend, self.frontend = load(path)
        self.info: ModelInfo = self.backend.info
        self.path = self.backend.path
        self._columns = np.asarray(self.info.columns, dtype=np.int64)
        level = self.frontend.level_column
        self._level_index = self.frontend.names.index(level) if level is not None else None
        params = self.info.normaliser
        self.normaliser = StreamNormaliser(params) if params is not None else None
        # One throw-away prediction: onnxruntime and the extractor's caches warm up here rather
        # than on the first utterance, whose row would otherwise come a few ms late.
        self.predict(np.zeros(features.SAMPLE_RATE // 2, dtype=np.float32))
        self.reset()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    @property
    def adapting(self) -> bool:
        return self.normaliser is not None and self.normaliser.adapting

    def for_new_stream(self) -> Classifier:
        """Another stream's classifier: the same loaded model, its own normaliser state (one
        per channel of a call, say)."""
        twin = copy.copy(self)
        params = self.info.normaliser
        twin.normaliser = StreamNormaliser(params) if params is not None else None
        return twin

    def reset(self) -> None:
        """A new stream: forget the normaliser's statistics."""
        if self.normaliser is not None:
            self.normaliser.reset()

    def front_end(self, samples: np.ndarray) -> np.ndarray:
        """The full utterance vector (every named column) of 16 kHz mono samples. A NaN that
        reached here (fed to the API, spread by a resampler) is silence and +-inf full scale,
        as the functionals' STFT treats them: one bad sample must not cost the utterance."""
        with np.errstate(invalid="ignore", over="ignore"):
            total = float(np.add.reduce(samples, dtype=np.float64))
        if not np.isfinite(total):
            samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
        return self.frontend.vector(samples)

    def _level(self, vector: np.ndarray) -> float:
        return float(vector[self._level_index]) if self._level_index is not None else 0.0

    def assess_vector(self, vector: np.ndarray, update: bool = True) -> Assessment:
        """Gate, normalise (updating the stream on speech, when ``update``) and classify one
        utterance vector. ``update=False`` is for provisional results: the utterance will be
        heard again whole, and only then counts in the stream's statistics."""
        speech = is_speech(self.info.speech_gate, vector)
        selected = vector[self._columns]
        if self.normaliser is None:
            normalised = selected.astype(np.float64)
        elif speech and update:
            normalised = self.normaliser.update(selected, self._level(vector))
        else:
            normalised = self.normaliser.preview(selected, self._level(vector))
        probs = self.backend.predict(normalised[None, :])[0]
        if not update:  # a provisional result: no stronger claim than the final will make
            probs = soften(probs, self.info.partial_temperature)
        return Assessment(probs, speech, self.adapting, normalised)

    def assess(self, samples: np.ndarray, update: bool = True) -> Assessment:
        if self.info.input_kind == "frames":  # only what the model reads is computed
            probs = self.backend.predict(features.frame_features(samples)[None, :, :])[0]
            return Assessment(probs, True, False, None)
        return self.assess_vector(self.front_end(samples), update)

    def predict(self, samples: np.ndarray) -> np.ndarray:
        """Class probabilities (sum 1) for one utterance of 16 kHz mono samples."""
        return self.assess(samples).probabilities

"""One stream's emotion classifier: front-end -> stream normaliser -> speech gate -> ONNX backend.

- front-end: :func:`streamer.features.extract_vector` (the one extractor training also runs), then
  the columns the model reads (``ModelInfo.columns``);
- normaliser: :class:`~streamer.model.normaliser.StreamNormaliser`, state of *this* stream;
- gate: :mod:`streamer.model.gate`, so noise and music get no emotion and stay out of the
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
from streamer.model.backend import PROBABILITIES_OUTPUT, OnnxBackend
from streamer.model.gate import is_speech
from streamer.model.metadata import ModelError, ModelInfo, check_compatible, parse_metadata
from streamer.model.normaliser import StreamNormaliser

__all__ = [
    "PROBABILITIES_OUTPUT",
    "Assessment",
    "Classifier",
    "ModelError",
    "ModelInfo",
    "check_compatible",
    "parse_metadata",
]

# The level the normaliser follows: the 90th percentile of frame RMS (dB), which moves exactly
# one dB per dB of input gain.
LEVEL_COLUMN = "rms_db__p90"


@dataclass(frozen=True)
class Assessment:
    """What the classifier says about one utterance."""

    probabilities: np.ndarray
    speech: bool  # False: the gate judged it noise, music or another non-speech sound
    adapting: bool  # the stream has not yet outweighed the training prior
    normalised: np.ndarray | None  # what the backend read (vector models)


class Classifier:
    """Per-utterance probabilities for one stream, from an ONNX model (one CPU thread)."""

    def __init__(self, path: Path | str) -> None:
        self.backend = OnnxBackend(path)
        self.info: ModelInfo = self.backend.info
        self.path = self.backend.path
        self._columns = np.asarray(self.info.columns, dtype=np.int64)
        self._level_index = features.FEATURE_NAMES.index(LEVEL_COLUMN)
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

    @property
    def utterances_seen(self) -> int:
        return self.normaliser.seen if self.normaliser is not None else 0

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
        """The full utterance vector (every named column) of 16 kHz mono samples."""
        return features.extract_vector(samples)

    def assess_vector(self, vector: np.ndarray, update: bool = True) -> Assessment:
        """Gate, normalise (updating the stream on speech, when ``update``) and classify one
        utterance vector. ``update=False`` is for provisional results: the utterance will be
        heard again whole, and only then counts in the stream's statistics."""
        speech = is_speech(self.info.speech_gate, vector)
        selected = vector[self._columns]
        if self.normaliser is None:
            normalised = selected.astype(np.float64)
        elif speech and update:
            normalised = self.normaliser.update(selected, float(vector[self._level_index]))
        else:
            normalised = self.normaliser.preview(selected, float(vector[self._level_index]))
        probs = self.backend.predict(normalised[None, :])[0]
        return Assessment(probs, speech, self.adapting, normalised)

    def assess(self, samples: np.ndarray, update: bool = True) -> Assessment:
        if self.info.input_kind == "frames":  # only what the model reads is computed
            probs = self.backend.predict(features.frame_features(samples)[None, :, :])[0]
            return Assessment(probs, True, False, None)
        return self.assess_vector(self.front_end(samples), update)

    def predict(self, samples: np.ndarray) -> np.ndarray:
        """Class probabilities (sum 1) for one utterance of 16 kHz mono samples."""
        return self.assess(samples).probabilities

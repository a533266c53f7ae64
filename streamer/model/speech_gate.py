"""The non-speech gate: noise, hum, tones and music get no emotion.

Voicing alone does not separate music from speech (a chord progression is 31-39 % voiced, inside
the speech range). What does is how many level-independent columns fall far outside anything the
training speech produced (music's alpha ratio is ~80 dB against a speech maximum of 25): each
column has the range of the training clips (``lo``..``hi``, robust percentiles), a column counts
when it lies more than ``margin`` ranges beyond it, and an utterance with more than
``max_outside`` such columns is not speech. Only columns that do not move with input gain are
used, so the decision does not depend on the microphone level either.

A second kind, :class:`LinearGate`, suits a learned front-end whose columns have no such
meaning (the Whisper encoder's pooled states): a linear speech/non-speech score over the
standardised vector, fitted on training speech against synthetic noise, hum, tones, chords and
clicks cut by the live segmenter; below ``threshold`` is not speech. Its JSON has
``"kind": "linear"``; the range gate's has no kind (models made before it keep loading).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np


def _check_columns(columns: np.ndarray, values: tuple[np.ndarray, ...], vector_size: int) -> None:
    n = len(columns)
    if any(a.shape != (n,) for a in values):
        raise ValueError("speech_gate values must match its columns")
    if n and (columns.min() < 0 or columns.max() >= vector_size):
        raise ValueError("speech_gate columns out of range")


@dataclass(frozen=True)
class GateParams:
    columns: np.ndarray  # positions in the full utterance vector
    lo: np.ndarray
    hi: np.ndarray
    margin: float  # in units of (hi - lo)
    max_outside: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "columns": [int(c) for c in self.columns],
                "lo": [round(float(v), 6) for v in self.lo],
                "hi": [round(float(v), 6) for v in self.hi],
                "margin": self.margin,
                "max_outside": self.max_outside,
            }
        )

    @classmethod
    def from_json(cls, text: str, vector_size: int) -> GateParams:
        raw = json.loads(text)
        params = cls(
            columns=np.asarray(raw["columns"], dtype=np.int64),
            lo=np.asarray(raw["lo"], dtype=np.float64),
            hi=np.asarray(raw["hi"], dtype=np.float64),
            margin=float(raw["margin"]),
            max_outside=int(raw["max_outside"]),
        )
        _check_columns(params.columns, (params.lo, params.hi), vector_size)
        if not np.all(params.hi >= params.lo) or params.margin < 0 or params.max_outside < 0:
            raise ValueError("speech_gate needs hi >= lo, margin >= 0, max_outside >= 0")
        return params


@dataclass(frozen=True)
class LinearGate:
    columns: np.ndarray  # positions in the full utterance vector
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float  # speech when the score is at least this

    def score(self, vectors: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(vectors)[:, self.columns] - self.mean) / self.std
        return z @ self.weights + self.bias

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "linear",
                "columns": [int(c) for c in self.columns],
                "mean": [round(float(v), 7) for v in self.mean],
                "std": [round(float(v), 7) for v in self.std],
                "weights": [round(float(v), 7) for v in self.weights],
                "bias": round(float(self.bias), 7),
                "threshold": round(float(self.threshold), 7),
            }
        )

    @classmethod
    def from_raw(cls, raw: dict, vector_size: int) -> LinearGate:
        gate = cls(
            columns=np.asarray(raw["columns"], dtype=np.int64),
            mean=np.asarray(raw["mean"], dtype=np.float64),
            std=np.asarray(raw["std"], dtype=np.float64),
            weights=np.asarray(raw["weights"], dtype=np.float64),
            bias=float(raw["bias"]),
            threshold=float(raw["threshold"]),
        )
        _check_columns(gate.columns, (gate.mean, gate.std, gate.weights), vector_size)
        if not (np.all(gate.std > 0) and np.all(np.isfinite(gate.weights))):
            raise ValueError("speech_gate needs positive std and finite weights")
        return gate


Gate = GateParams | LinearGate


def gate_from_json(text: str, vector_size: int) -> Gate:
    """Either kind of gate from a model's ``speech_gate`` metadata."""
    raw = json.loads(text)
    if raw.get("kind") == "linear":
        return LinearGate.from_raw(raw, vector_size)
    return GateParams.from_json(text, vector_size)


def columns_outside(params: GateParams, vectors: np.ndarray) -> np.ndarray:
    """How many gate columns of each vector (rows of the full utterance vector) lie outside."""
    values = np.atleast_2d(vectors)[:, params.columns]
    width = np.maximum(params.hi - params.lo, 1e-9)
    beyond = np.maximum(params.lo - values, values - params.hi) / width
    return np.sum((beyond > params.margin) | ~np.isfinite(values), axis=1)


def is_speech(params: Gate | None, vector: np.ndarray) -> bool:
    if params is None:
        return True
    if not np.all(np.isfinite(vector)):
        return False  # nothing the model was trained on
    if isinstance(params, LinearGate):
        return bool(params.score(vector)[0] >= params.threshold)
    return bool(columns_outside(params, vector)[0] <= params.max_outside)

"""Stream-adaptive normalisation: each utterance vector is scored against *its own stream*.

A model trained on a few studio corpora meets other voices, languages, rooms and microphones.
Z-scoring every corpus by its own statistics was the largest measured gain on unseen corpora
(issue 10), so ser-live does the same online, per stream (a microphone session, a file, one
channel of a call), and training normalises each corpus through this very class.

Two steps, both label-free:

1. **Level.** Columns that move with input gain (dB levels, log-mel, MFCC 0 ...) are shifted by
   ``level_coef * (stream level - prior level)``; the stream level is the mean of a level column
   over the last ``level_window`` speech utterances, the current one included. A copy of the
   stream at another gain therefore yields the same corrected vectors from the first utterance
   on, and a change of microphone gain is followed within ``level_window`` utterances.
2. **Spread.** The corrected vector is z-scored with the mean and variance of the last
   ``window`` speech utterances, shrunk toward the training statistics with the weight of
   ``prior_weight`` utterances: the first utterance is scored as training would score it, and the
   stream's own statistics take over as it goes on.

Non-speech (see :mod:`streamer.model.speech_gate`) is scored but never added to the statistics.

The statistics stay finite whatever comes in: a vector or level with a NaN, an infinity or an
absurd value (from audio no source passes on, but an API caller may) is scored with those
entries at the stream mean and never added, so it cannot poison the utterances after it.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

import numpy as np

# Beyond this a feature is not a measurement (its square would overflow the running sums).
ABSURD = 1e100

@dataclass(frozen=True)
class NormaliserParams:
    """What the runtime needs, stored in the model's metadata (``normaliser``)."""

    mean: np.ndarray  # training mean of the level-corrected model columns
    std: np.ndarray  # training standard deviation of the same
    level_coef: np.ndarray  # dB of column change per dB of input gain, per model column
    prior_level_db: float  # training mean of the level column
    prior_weight: float  # the training statistics count as this many utterances
    window: int  # utterances the stream statistics cover
    level_window: int  # utterances the stream level covers

    def to_json(self) -> str:
        return json.dumps(
            {
                # full precision: training and ser-live must compute the same numbers
                "mean": [float(v) for v in self.mean],
                "std": [float(v) for v in self.std],
                "level_coef": [float(v) for v in self.level_coef],
                "prior_level_db": float(self.prior_level_db),
                "prior_weight": self.prior_weight,
                "window": self.window,
                "level_window": self.level_window,
            }
        )

    @classmethod
    def from_json(cls, text: str, n_columns: int) -> NormaliserParams:
        raw = json.loads(text)
        params = cls(
            mean=np.asarray(raw["mean"], dtype=np.float64),
            std=np.asarray(raw["std"], dtype=np.float64),
            level_coef=np.asarray(raw["level_coef"], dtype=np.float64),
            prior_level_db=float(raw["prior_level_db"]),
            prior_weight=float(raw["prior_weight"]),
            window=int(raw["window"]),
            level_window=int(raw["level_window"]),
        )
        for name in ("mean", "std", "level_coef"):
            values = getattr(params, name)
            if values.shape != (n_columns,) or not np.all(np.isfinite(values)):
                raise ValueError(f"normaliser {name} must be {n_columns} finite numbers")
        if np.any(params.std <= 0):
            raise ValueError("normaliser std must be positive")
        if params.prior_weight <= 0 or params.window < 1 or params.level_window < 1:
            raise ValueError("normaliser prior_weight, window and level_window must be positive")
        return params


def _sound(values: np.ndarray) -> np.ndarray:
    """Per entry: a finite value of a plausible size (False for NaN and infinities)."""
    with np.errstate(invalid="ignore"):
        return np.abs(np.asarray(values, dtype=np.float64)) < ABSURD


class StreamNormaliser:
    """Per-stream state; one instance per stream, ``reset()`` at the start of a new one."""

    def __init__(self, params: NormaliserParams) -> None:
        self.params = params
        self.reset()

    def reset(self) -> None:
        self._levels: deque[float] = deque(maxlen=self.params.level_window)
        # Vectors are kept as corrected for the level of their own time: after a change of gain
        # the old ones still stand for what they were. Running sums keep an update O(columns).
        self._rows: deque[np.ndarray] = deque()
        self._sum = np.zeros(len(self.params.mean))
        self._sum_sq = np.zeros(len(self.params.mean))
        self._seen = 0

    @property
    def seen(self) -> int:
        """Speech utterances this stream has contributed so far."""
        return self._seen

    @property
    def adapting(self) -> bool:
        """True while the training prior still outweighs the stream's own statistics."""
        return self._seen < self.params.prior_weight

    def preview(self, vector: np.ndarray, level_db: float) -> np.ndarray:
        """The normalised vector as if this utterance were speech, without changing the state."""
        return self._score(vector, level_db)[0]

    def update(self, vector: np.ndarray, level_db: float) -> np.ndarray:
        """Add a speech utterance to the stream statistics and return its normalised vector
        (one that is not finite is only scored, see the module's notes)."""
        z, corrected = self._score(vector, level_db)
        if not (np.isfinite(level_db) and _sound(vector).all()):
            return z
        self._levels.append(level_db)
        self._rows.append(corrected)
        self._sum += corrected
        self._sum_sq += corrected * corrected
        if len(self._rows) > self.params.window - 1:  # room for the next utterance
            old = self._rows.popleft()
            self._sum -= old
            self._sum_sq -= old * old
        self._seen += 1
        return z

    def _score(self, vector: np.ndarray, level_db: float) -> tuple[np.ndarray, np.ndarray]:
        """The normalised and the level-corrected vector; the window holds at most ``window - 1``
        earlier utterances, so with this one it covers ``window``."""
        p = self.params
        recent = list(self._levels)[max(0, len(self._levels) - (p.level_window - 1)) :]
        levels = [*recent, level_db] if np.isfinite(level_db) else recent
        offset = float(np.mean(levels)) - p.prior_level_db if levels else 0.0
        corrected = np.asarray(vector, dtype=np.float64) - p.level_coef * offset
        sound = _sound(corrected)
        if not sound.all():  # scored as the stream's mean there
            corrected = np.where(sound, corrected, self._mean_so_far())
        n = len(self._rows) + 1
        total = self._sum + corrected
        total_sq = self._sum_sq + corrected * corrected
        w = p.prior_weight
        mean = (w * p.mean + total) / (w + n)
        # sum over the window of (row - mean)^2, from the running sums
        own = np.maximum(total_sq - 2.0 * mean * total + n * mean * mean, 0.0)
        spread = w * (p.std**2 + (p.mean - mean) ** 2) + own
        return (corrected - mean) / np.sqrt(spread / (w + n)), corrected


    def _mean_so_far(self) -> np.ndarray:
        """The stream mean shrunk toward the training mean (the training mean at the start)."""
        w = self.params.prior_weight
        return (w * self.params.mean + self._sum) / (w + len(self._rows))


def normalise_stream(
    params: NormaliserParams, vectors: np.ndarray, levels_db: np.ndarray, speech: np.ndarray
) -> np.ndarray:
    """Normalise a sequence of utterance vectors as one stream (training and evaluation use this
    to score corpora exactly as ser-live scores a call); non-speech rows do not update it."""
    normaliser = StreamNormaliser(params)
    out = np.empty((len(vectors), len(params.mean)))
    for i, (vector, level, is_speech) in enumerate(zip(vectors, levels_db, speech, strict=True)):
        out[i] = (
            normaliser.update(vector, level) if is_speech else normaliser.preview(vector, level)
        )
    return out

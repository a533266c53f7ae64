"""Training normalises every corpus (and every augmented variant of it) as one stream, through
the very :class:`~streamer.model.normaliser.StreamNormaliser` ser-live runs per call.

- :func:`level_coefficients` measures how each column moves with input gain (dB per dB) by
  extracting clips at two levels; the normaliser takes that response out using the stream level.
- :func:`fit_params` sets the training prior: the mean of the sessions' means (each corpus counts
  once, whatever its size) and the within-session spread.
- :func:`normalise` replays each session in a seeded random order through a fresh normaliser, so
  a training vector is scored exactly as a live stream would score it, cold start included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from streamer.model.normaliser import NormaliserParams, normalise_stream

GAIN_STEP_DB = -10.0


@dataclass(frozen=True)
class StreamRecipe:
    columns: tuple[int, ...]  # vector positions the model reads
    level_coef: np.ndarray  # per full-vector column, dB per dB of gain (zeros: no level column)
    prior_weight: float
    window: int
    level_window: int
    seed: int
    level_index: int | None = None  # the front-end's level column in the full vector

    def levels(self, vectors: np.ndarray) -> np.ndarray:
        """The stream level of each row (zeros for a front-end without a level column)."""
        if self.level_index is None:
            return np.zeros(len(vectors))
        return vectors[:, self.level_index]


def level_coefficients(
    clips: Sequence[np.ndarray], vector: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Median change of every column of ``vector`` (a front-end) per dB of input gain, over
    ``clips`` (16 kHz)."""
    slopes = []
    scale = np.float32(10 ** (GAIN_STEP_DB / 20))
    for samples in clips:
        loud = vector(samples)
        quiet = vector((samples * scale).astype(np.float32))
        slopes.append((quiet - loud) / GAIN_STEP_DB)
    coef = np.median(np.asarray(slopes, dtype=np.float64), axis=0)
    coef[np.abs(coef) < 0.02] = 0.0  # level-independent columns are left exactly alone
    return coef


def fit_params(recipe: StreamRecipe, vectors: np.ndarray, sessions: np.ndarray) -> NormaliserParams:
    """Training prior from ``vectors`` (full utterance vectors), one session at a time."""
    cols = np.asarray(recipe.columns)
    coef = recipe.level_coef[cols]
    names = np.unique(sessions)
    all_levels = recipe.levels(vectors)
    levels = {s: float(all_levels[sessions == s].mean()) for s in names}
    prior_level = float(np.mean(list(levels.values())))
    means, variances = [], []
    for s in names:
        corrected = vectors[sessions == s][:, cols] - coef * (levels[s] - prior_level)
        means.append(corrected.mean(axis=0))
        variances.append(corrected.var(axis=0))
    std = np.sqrt(np.mean(variances, axis=0))
    return NormaliserParams(
        mean=np.mean(means, axis=0),
        std=np.maximum(std, 1e-6 * (1.0 + np.abs(np.mean(means, axis=0)))),
        level_coef=coef,
        prior_level_db=prior_level,
        prior_weight=recipe.prior_weight,
        window=recipe.window,
        level_window=recipe.level_window,
    )


def session_order(n: int, seed: int, session: str) -> np.ndarray:
    """The seeded random order in which a session's utterances are streamed."""
    import zlib

    return np.random.default_rng([seed, zlib.crc32(session.encode())]).permutation(n)


def normalise(
    params: NormaliserParams,
    recipe: StreamRecipe,
    vectors: np.ndarray,
    sessions: np.ndarray,
    speech: np.ndarray | None = None,
) -> np.ndarray:
    """Each session streamed through its own fresh normaliser; rows come back in input order."""
    cols = np.asarray(recipe.columns)
    out = np.empty((len(vectors), len(cols)))
    speech = np.ones(len(vectors), bool) if speech is None else speech
    for s in np.unique(sessions):
        rows = np.flatnonzero(sessions == s)
        rows = rows[session_order(len(rows), recipe.seed, str(s))]
        out[rows] = normalise_stream(
            params, vectors[rows][:, cols], recipe.levels(vectors[rows]), speech[rows]
        )
    return out


def balanced_weights(sessions_of_corpus: np.ndarray) -> np.ndarray:
    """Per-row weights that give every corpus the same total weight (mean weight 1)."""
    names, counts = np.unique(sessions_of_corpus, return_counts=True)
    per = {
        n: len(sessions_of_corpus) / (len(names) * c) for n, c in zip(names, counts, strict=True)
    }
    return np.array([per[s] for s in sessions_of_corpus])


Normalise = Callable[[np.ndarray, np.ndarray], np.ndarray]

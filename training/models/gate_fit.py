"""Fits the speech gate (:mod:`streamer.model.speech_gate`) on the training clips.

The gate reads the 52 columns below: level-independent voicing, pitch, voice-quality, spectral
balance and rhythm functionals in which *speech of every kind we could produce* stays inside the
training range (at its 99.5th percentile, less than 0.3 of the range beyond it): EmoDB against
RAVDESS's range and the reverse, corpus clips through a 300-3400 Hz telephone band at 8 kHz, clips
with white noise at 10 dB SNR, and espeak-ng's synthetic voice. Channel-dependent columns (most
spectral-tilt statistics) were left out: they put espeak-ng and telephone speech 8-19 columns
outside the range. Only the column *list* was chosen that way; the ranges are fitted on the
training clips of each model (0.5th..99.5th percentile).

On these columns, with ``MARGIN`` 0.5, training/nonspeech.py's signals (20 s, cut by the live
segmenter) had at least 6 columns outside (chords 6, pink noise 8, white noise, brown noise and
clicks 13, hum and a pure tone 19), so ``MAX_OUTSIDE`` = 2 separates the two with room on both
sides.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from streamer import features
from streamer.model.speech_gate import GateParams, LinearGate

MARGIN = 0.5
MAX_OUTSIDE = 2
PERCENTILES = (0.5, 99.5)
GATE_COLUMNS = (
    "zcr__std",
    "zcr__p90",
    "zcr__range",
    "f0_st__mean",
    "f0_st__std",
    "f0_st__p50",
    "f0_st__p90",
    "f0_st__range",
    "f0_st__slope",
    "voicing__mean",
    "voicing__std",
    "voicing__p50",
    "voicing__range",
    "voiced__mean",
    "voiced__std",
    "voiced__p50",
    "shimmer_db__std",
    "shimmer_db__p90",
    "shimmer_db__range",
    "hnr_db__p10",
    "alpha_ratio_db__mean",
    "alpha_ratio_db__p50",
    "alpha_ratio_db__p90",
    "hammarberg_db__p10",
    "hammarberg_db__p50",
    "hammarberg_db__slope",
    "slope_500_1500__mean",
    "slope_500_1500__p50",
    "f0_st__voiced_mean",
    "f0_st__voiced_p10",
    "f0_st__voiced_p50",
    "f0_st__voiced_p90",
    "f0_st__voiced_slope",
    "jitter__voiced_p10",
    "shimmer_db__voiced_range",
    "hnr_db__voiced_mean",
    "hnr_db__voiced_p10",
    "hnr_db__voiced_p50",
    "alpha_ratio_db__voiced_std",
    "alpha_ratio_db__voiced_p10",
    "alpha_ratio_db__voiced_p90",
    "alpha_ratio_db__voiced_range",
    "alpha_ratio_db__voiced_slope",
    "hammarberg_db__voiced_mean",
    "hammarberg_db__voiced_slope",
    "slope_500_1500__voiced_mean",
    "slope_500_1500__voiced_p90",
    "slope_500_1500__voiced_slope",
    "voiced_fraction",
    "voiced_segments_per_s",
    "voiced_segment_mean_s",
    "unvoiced_segment_mean_s",
)


KEEP_SPEECH = 0.995  # the linear gate keeps this share of the training clips
NONSPEECH_LEVELS_DB = (0.0, -10.0, -20.0, -30.0)
NONSPEECH_SEEDS = (0, 1, 2)


def fit_gate(vectors: np.ndarray, names: tuple[str, ...] | None = None) -> GateParams:
    """Ranges of the gate columns over ``vectors`` (full utterance vectors of recorded clips);
    ``names``: the front-end's columns (default: the functionals')."""
    names = tuple(features.FEATURE_NAMES) if names is None else names
    position = {n: i for i, n in enumerate(names)}
    cols = np.array([position[n] for n in GATE_COLUMNS], dtype=np.int64)
    lo, hi = np.percentile(vectors[:, cols], PERCENTILES, axis=0)
    return GateParams(columns=cols, lo=lo, hi=hi, margin=MARGIN, max_outside=MAX_OUTSIDE)


def nonspeech_segments(
    cut: Callable[[np.ndarray], list[np.ndarray]], seconds: float = 20.0
) -> list[np.ndarray]:
    """training/nonspeech.py's noise, hum, tone, chord and click signals at several levels and
    seeds, cut into segments by ``cut`` (the live segmenter): what the gate must refuse."""
    from training.data import nonspeech

    segments = []
    for seed in NONSPEECH_SEEDS:
        for signal in nonspeech.signals(seconds, seed).values():
            for level in NONSPEECH_LEVELS_DB:
                segments += cut((signal * np.float32(10 ** (level / 20))).astype(np.float32))
    return segments


def fit_linear_gate(
    speech: np.ndarray, nonspeech: np.ndarray, seed: int = 0, keep: float = KEEP_SPEECH
) -> LinearGate:
    """A logistic speech/non-speech score over every column (standardised on the speech),
    its threshold set to keep ``keep`` of the training speech."""
    from sklearn.linear_model import LogisticRegression

    mean = speech.mean(axis=0)
    std = np.maximum(speech.std(axis=0), 1e-6)
    x = (np.concatenate([speech, nonspeech]) - mean) / std
    y = np.r_[np.ones(len(speech)), np.zeros(len(nonspeech))]
    clf = LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000, random_state=seed)
    clf.fit(x, y)
    weights, bias = clf.coef_[0], float(clf.intercept_[0])
    scores = ((speech - mean) / std) @ weights + bias
    threshold = float(np.quantile(scores, 1.0 - keep))
    return LinearGate(np.arange(speech.shape[1]), mean, std, weights, bias, threshold)

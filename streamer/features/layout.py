"""Names and positions of the frame-matrix columns and of the utterance-vector entries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .config import FeatureConfig

STATS = ("mean", "std", "p10", "p50", "p90", "range", "slope")
PERCENTILES = (10.0, 50.0, 90.0)
SCALAR_SPECTRAL = (
    "rms_db", "zcr", "centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness", "flux"
)
VOICE = ("f0_st", "voicing", "voiced", "jitter", "shimmer_db", "hnr_db", "loudness")
SPECTRAL_BALANCE = ("alpha_ratio_db", "hammarberg_db", "slope_0_500", "slope_500_1500")
# Summarised again over voiced frames only (jitter/shimmer where they are defined).
VOICED_ONLY = (
    "f0_st", "jitter", "shimmer_db", "hnr_db", "loudness",
    "alpha_ratio_db", "hammarberg_db", "slope_0_500", "slope_500_1500",
)
TEMPORAL = (
    "voiced_fraction",
    "voiced_segments_per_s",
    "voiced_segment_mean_s",
    "unvoiced_segment_mean_s",
    "loudness_peaks_per_s",
)


@dataclass(frozen=True)
class Layout:
    frame_names: tuple[str, ...]
    vector_names: tuple[str, ...]
    column: dict[str, int]  # frame column name -> index
    voiced_rows: tuple[int, ...]  # columns of VOICED_ONLY, in that order
    perturbation_rows: tuple[int, ...]  # positions of jitter/shimmer within VOICED_ONLY

    def block(self, prefix: str) -> slice:
        """Columns named prefix_0 .. prefix_{n-1}, as a slice."""
        first = self.column[f"{prefix}_0"]
        n = sum(1 for name in self.frame_names if name.rsplit("_", 1)[0] == prefix)
        return slice(first, first + n)


@lru_cache(maxsize=8)
def layout(config: FeatureConfig) -> Layout:
    def numbered(prefix: str, n: int) -> tuple[str, ...]:
        return tuple(f"{prefix}_{i}" for i in range(n))

    frame = (
        numbered("logmel_db", config.n_mels)
        + numbered("mfcc", config.n_mfcc)
        + numbered("mfcc_d", config.n_mfcc)
        + numbered("mfcc_dd", config.n_mfcc)
        + SCALAR_SPECTRAL
        + numbered("contrast", config.contrast_bands + 1)
        + numbered("chroma", config.n_chroma)
        + VOICE
        + SPECTRAL_BALANCE
    )
    vector = (
        tuple(f"{name}__{stat}" for name in frame for stat in STATS)
        + tuple(f"{name}__voiced_{stat}" for name in VOICED_ONLY for stat in STATS)
        + TEMPORAL
    )
    assert len(set(frame)) == len(frame) and len(set(vector)) == len(vector)
    column = {name: i for i, name in enumerate(frame)}
    return Layout(
        frame_names=frame,
        vector_names=vector,
        column=column,
        voiced_rows=tuple(column[name] for name in VOICED_ONLY),
        perturbation_rows=tuple(
            i for i, name in enumerate(VOICED_ONLY) if name in ("jitter", "shimmer_db")
        ),
    )

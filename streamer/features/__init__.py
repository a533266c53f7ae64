"""Feature extraction: 16 kHz mono float32 samples -> frame matrix and utterance vector.

This is the one implementation that both live inference (streamer) and training use. Everything
is vectorised over frames with numpy/scipy (no Python loop per frame):

- ``stft``: input conditioning and the one STFT the spectral descriptors share
- ``spectral``: log-mel, MFCC (+deltas), RMS, ZCR, centroid, bandwidth, roll-off, flatness,
  flux, contrast, chroma
- ``pitch``: vectorised YIN F0 with voicing, aperiodicity and HNR
- ``voice_quality``: jitter, shimmer, loudness, alpha ratio, Hammarberg index, spectral slopes
- ``stats``: utterance functionals; ``layout``: stable column names; ``config``: parameters
- ``plan``: per-config precomputed matrices; ``runtime``: glibc malloc thresholds (set by
  each command's entry point, never on import: a library must not retune its host process;
  SER_FEATURES_MALLOC_TUNING=0 opts out) and one BLAS thread during each extraction (see
  runtime.py for the measurements behind both)
"""

from __future__ import annotations

from .config import DEFAULT_CONFIG, FEATURE_VERSION, SAMPLE_RATE, FeatureConfig, feature_spec
from .extractor import Features, extract, extract_vector, frame_features, functionals
from .layout import layout as _layout


def frame_feature_names(config: FeatureConfig = DEFAULT_CONFIG) -> tuple[str, ...]:
    return _layout(config).frame_names


def feature_names(config: FeatureConfig = DEFAULT_CONFIG) -> tuple[str, ...]:
    return _layout(config).vector_names


FRAME_FEATURE_NAMES: tuple[str, ...] = frame_feature_names()
FEATURE_NAMES: tuple[str, ...] = feature_names()

# Parameters of the default config under the names the first version exported.
N_FFT = DEFAULT_CONFIG.n_fft
HOP = DEFAULT_CONFIG.hop_length
WIN = DEFAULT_CONFIG.win_length
N_MELS = DEFAULT_CONFIG.n_mels
N_MFCC = DEFAULT_CONFIG.n_mfcc

__all__ = [
    "DEFAULT_CONFIG",
    "FEATURE_NAMES",
    "FEATURE_VERSION",
    "FRAME_FEATURE_NAMES",
    "SAMPLE_RATE",
    "FeatureConfig",
    "Features",
    "extract",
    "extract_vector",
    "feature_names",
    "feature_spec",
    "frame_feature_names",
    "frame_features",
    "functionals",
]

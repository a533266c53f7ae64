"""Feature configuration: every parameter of the extractor lives in one frozen dataclass.

The default instance is what the shipped model uses. ``feature_spec()`` serialises it (with the
version and the vector length) so a model can refuse features computed differently.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

SAMPLE_RATE = 16000
# Bump whenever the numbers or the columns produced for the default config change.
FEATURE_VERSION = "3"
SPEC_NAME = "ser-live-features"


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the extractor. Times are in samples at ``sample_rate`` unless named *_hz."""

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 400  # = win_length, no zero padding (as Whisper / torchaudio): 40 Hz bins
    win_length: int = 400  # 25 ms periodic Hann, centred in the n_fft frame
    hop_length: int = 160  # 10 ms
    remove_dc: bool = True  # subtract the utterance mean first (a constant offset then cancels)
    # mel / MFCC
    n_mels: int = 40
    fmin_hz: float = 0.0
    fmax_hz: float = 8000.0
    mel_htk: bool = False  # False: Slaney mel scale (librosa's default)
    mel_slaney_norm: bool = True  # equal-area triangles (librosa norm="slaney")
    n_mfcc: int = 13
    delta_width: int = 5  # Savitzky-Golay window for deltas and delta-deltas (odd, >= 3)
    # spectral shape
    rolloff_percent: float = 0.85
    contrast_fmin_hz: float = 200.0
    contrast_bands: int = 6
    contrast_quantile: float = 0.02
    n_chroma: int = 12
    loudness_exponent: float = 0.3  # Stevens' power law on mel band power
    # pitch (YIN on a 2x decimated signal)
    f0_min_hz: float = 65.0
    f0_max_hz: float = 500.0
    pitch_decimation: int = 2
    pitch_stride: int = 2  # estimate F0 every n-th frame (20 ms), interpolate the rest
    yin_threshold: float = 0.2  # first CMNDF trough below this is taken as the period
    voicing_threshold: float = 0.35  # aperiodicity (CMNDF at the period) above this is unvoiced
    voicing_min_rms_db: float = -65.0  # quieter frames are unvoiced whatever their periodicity

    def __post_init__(self) -> None:
        nyquist = self.sample_rate / 2
        checks = [
            (self.win_length <= self.n_fft, "win_length must not exceed n_fft"),
            (self.hop_length >= 1, "hop_length must be positive"),
            (0 <= self.fmin_hz < self.fmax_hz <= nyquist, "need 0 <= fmin_hz < fmax_hz <= sr/2"),
            (1 <= self.n_mfcc <= self.n_mels, "need 1 <= n_mfcc <= n_mels"),
            (self.delta_width >= 3 and self.delta_width % 2 == 1, "delta_width: odd and >= 3"),
            (0 < self.rolloff_percent < 1, "rolloff_percent must be in (0, 1)"),
            (0 < self.contrast_quantile < 1, "contrast_quantile must be in (0, 1)"),
            (
                self.contrast_fmin_hz * 2 ** (self.contrast_bands - 1) < nyquist,
                "contrast bands exceed Nyquist: lower contrast_fmin_hz or contrast_bands",
            ),
            (self.pitch_decimation in (1, 2), "pitch_decimation must be 1 or 2"),
            (self.pitch_stride in (1, 2), "pitch_stride must be 1 or 2"),
            (
                0 < self.f0_min_hz < self.f0_max_hz
                <= self.sample_rate / self.pitch_decimation / 4,
                "need 0 < f0_min_hz < f0_max_hz <= decimated rate / 4",
            ),
            (
                self.hop_length % self.pitch_decimation == 0,
                "hop_length must be a multiple of pitch_decimation",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"FeatureConfig: {message}")
        # Hashed on every (cached) lookup on the hot path: compute it once.
        object.__setattr__(self, "_hash", hash(dataclasses.astuple(self)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined, no-any-return]

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.sample_rate / self.hop_length


DEFAULT_CONFIG = FeatureConfig()


def feature_spec(config: FeatureConfig = DEFAULT_CONFIG) -> str:
    """Stable JSON (sorted keys) stored in the model's metadata and compared on load."""
    from .layout import layout  # local import: layout depends on this module

    spec = {
        "name": SPEC_NAME,
        "version": FEATURE_VERSION,
        "sample_rate": config.sample_rate,
        "params": dataclasses.asdict(config),
        "n_frame_features": len(layout(config).frame_names),
        "n_features": len(layout(config).vector_names),
    }
    return json.dumps(spec, sort_keys=True)

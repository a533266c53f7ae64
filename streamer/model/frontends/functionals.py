"""The handcrafted front-end: :func:`streamer.features.extract_vector`'s 880 functionals of
prosody, voice quality and spectrum — fast (a few ms per utterance) and the one training runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamer import features

# The level the normaliser follows: the 90th percentile of frame RMS (dB), which moves exactly
# one dB per dB of input gain.
LEVEL_COLUMN = "rms_db__p90"


class Functionals:
    name = "functionals"
    level_column: str | None = LEVEL_COLUMN

    def __init__(self) -> None:
        self.spec = features.feature_spec()
        self.names = features.FEATURE_NAMES

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], folder: Path) -> Functionals:
        return cls()

    def to_metadata(self) -> dict[str, str]:
        return {"frontend": self.name}

    def vector(self, samples: np.ndarray) -> np.ndarray:
        return features.extract_vector(samples)

"""Front-ends: 16 kHz mono samples -> the named utterance vector a model's columns index.

A registry keyed by the name a model stores in its metadata (``frontend``; models without it
use ``functionals``). Adding a front-end is one module with a class that has these members plus
one line in :data:`FRONTENDS`; the classifier, training and the tests take it from there.

- ``name``: the registry key;
- ``spec``: text that pins down how the vector is computed (stored in the model as
  ``feature_spec`` and compared on load: a model trained on other numbers is refused);
- ``names``: every column of the vector, in order (a model names the ones it reads);
- ``level_column``: the column the stream normaliser follows for input level, or None;
- ``vector(samples)``: the vector (float64/32, ``len(names)`` values);
- ``to_metadata()``: the keys a model trained on it stores, so that it loads it again.

Factories take the model's metadata and the folder of the model file (a front-end may ship a
file of its own beside the model) and must be cheap until ``vector`` is first called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from streamer.errors import ModelError
from streamer.model.frontends.functionals import Functionals
from streamer.model.frontends.whisper import WhisperEncoder

DEFAULT_FRONTEND = "functionals"


class FrontEnd(Protocol):
    name: str
    spec: str
    names: tuple[str, ...]
    level_column: str | None

    def vector(self, samples: np.ndarray) -> np.ndarray: ...


FrontEndFactory = Callable[[dict[str, str], Path], FrontEnd]

FRONTENDS: dict[str, FrontEndFactory] = {
    Functionals.name: Functionals.from_metadata,
    WhisperEncoder.name: WhisperEncoder.from_metadata,
}


def frontend_for(metadata: dict[str, str], folder: Path, origin: str) -> FrontEnd:
    """The front-end a model's metadata names (ModelError for one this ser-live lacks)."""
    name = metadata.get("frontend", DEFAULT_FRONTEND)
    factory = FRONTENDS.get(name)
    if factory is None:
        known = ", ".join(sorted(FRONTENDS))
        raise ModelError(f"{origin}: model needs front-end {name!r}; this ser-live has {known}")
    return factory(metadata, folder)

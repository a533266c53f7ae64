"""Audio sources. Each yields 16 kHz mono float32 blocks to the same downstream pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event
from typing import Protocol

import numpy as np


class SourceError(RuntimeError):
    """Input that cannot be used: the message is one line for the user."""


class InputError(SourceError):
    """Bad input given by the user (a file that is not audio, an unknown device): exit code 2."""


@dataclass
class SourceStats:
    """Counters a source keeps for the UI and the end-of-run summary."""

    overruns: int = 0  # times audio had to be dropped because the consumer fell behind
    dropped_s: float = 0.0  # seconds of audio dropped
    device_overflows: int = 0  # PortAudio's own input-overflow flags


class Source(Protocol):
    description: str
    stats: SourceStats

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        """Yield 16 kHz mono float32 blocks until the input ends or ``stop`` is set."""
        ...

    def close(self) -> None: ...

"""Audio sources: the microphone (a PortAudio callback into a ring buffer), a file, stdin.

Each yields float32 blocks ``(frames, channels)`` at its own rate (``rate_hz``) until the input
ends or the run stops; the engine (:mod:`streamer.engine`) applies the channel choice and
resamples once. :func:`~streamer.sources.recording.open_recording` opens a file or stdin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from threading import Event
from typing import Protocol

import numpy as np

from streamer.errors import InputError, SourceError
from streamer.sources.channel_choice import ChannelMode

__all__ = [
    "ChannelMode",
    "InputError",
    "InputTruncated",
    "Source",
    "SourceError",
    "SourceStats",
]


@dataclass
class SourceStats:
    """Counters a source keeps for the UI and the end-of-run summary."""

    overruns: int = 0  # times audio had to be dropped because the consumer fell behind
    dropped_s: float = 0.0  # seconds of audio dropped
    device_overflows: int = 0  # PortAudio's own input-overflow flags
    bad_samples: int = 0  # NaN, infinite or absurdly large samples replaced by silence


class InputTruncated(SourceError):
    """The input ended before its header said it would (cut short on disk, or while it was
    read). Everything before the cut was read and classified."""


class Source(Protocol):
    description: str
    stats: SourceStats
    rate_hz: int  # of the blocks
    channels: int  # columns of the blocks
    channel_mode: ChannelMode  # what the engine makes of them
    realtime: bool  # blocks come at the pace of the audio (a microphone, a paced replay)

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        """Yield ``(frames, channels)`` float32 blocks until the input ends or ``stop`` is set."""
        ...

    def close(self) -> None: ...


class Recording(Source, Protocol):
    """A file or a pipe: it may know when it was recorded."""

    @property
    def recording_start(self) -> datetime | None: ...

"""Opening a recording: a file, or stdin for ``--input -``, with one signature."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from threading import Event

from streamer.sources.channel_choice import ChannelMode
from streamer.sources.file import FileSource
from streamer.sources.raw import RawFormat
from streamer.sources.stdin import StdinSource

STDIN = "-"  # --input -


def open_recording(
    path: Path | str,
    block_ms: int,
    realtime: bool,
    channels: ChannelMode = "mix",
    raw: RawFormat | None = None,
    start_time: datetime | None = None,
    stop: Event | None = None,
) -> FileSource | StdinSource:
    """A file, or stdin for ``"-"`` (InputError for anything that is not audio). ``block_ms``:
    the block size when paced; ``channels``: "mix", a 1-based channel or "each" (checked
    against the input); ``raw``: headerless PCM in this format; ``start_time``: when the
    recording began (for a file, instead of its modification time); ``stop``: the run's stop
    event, heeded while waiting for a pipe's first bytes."""
    shape = {"realtime": realtime, "channels": channels, "raw": raw, "start_time": start_time}
    if str(path) == STDIN:
        return StdinSource(block_ms, stop=stop, **shape)
    return FileSource(path, block_ms, **shape)

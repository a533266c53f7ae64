"""How a source and the emotion stream are put together, in one place for every command.

``ser-live`` and ``ser-batch`` both build their :class:`~streamer.stream.EmotionStream` here, so
a change to the segmenting or the model wiring reaches both; each recording gets a fresh stream
(all stream state reset).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from streamer.classifier import Classifier
from streamer.settings import Settings
from streamer.sources.file import FileSource
from streamer.sources.raw import RawFormat
from streamer.sources.resample import ChannelMode
from streamer.sources.stdin import StdinSource
from streamer.stream import EmotionStream


def build_stream(
    settings: Settings,
    model: Classifier,
    source: Any = None,
    channels: ChannelMode = "mix",
    partial_every_s: float = 0.0,
) -> EmotionStream:
    """A fresh stream for ``source``'s blocks (already at the model's rate, the channels it
    was asked for). A file replayed as fast as possible runs on stream time (its rows then do
    not depend on when or where it was replayed); so does a pipe given ``--start-time``. A
    recording replayed at its own pace with ``--start-time`` stamps rows with that start plus
    stream time; without it, with the machine's clock. ``partial_every_s``: provisional
    results, for outputs that show them (0 = none)."""
    start, paced = None, False
    if isinstance(source, (FileSource, StdinSource)):
        if not source.realtime:
            start = source.recording_start  # None for a pipe without --start-time
        else:
            start, paced = source.start_time, True
    return EmotionStream(
        model,
        settings=settings,
        channels=channels,
        partial_every_s=partial_every_s,
        start_time=start,
        paced=paced,
    )


STDIN = "-"  # --input -


def open_recording(
    path: Path | str,
    settings: Settings,
    realtime: bool,
    channels: ChannelMode = "mix",
    raw: RawFormat | None = None,
    start_time: datetime | None = None,
    stop: Any = None,
) -> FileSource | StdinSource:
    """A recording at the pipeline's rate: a file, or stdin for ``"-"`` (raises InputError
    for anything that is not audio). ``channels``: "mix", a 1-based channel or "each"; ``raw``:
    headerless PCM in this format; ``start_time``: when the recording began (for a file,
    instead of its modification time); ``stop``: the run's stop event, heeded while waiting
    for a pipe's first bytes."""
    audio = settings.audio
    shape = {"realtime": realtime, "channels": channels, "raw": raw, "start_time": start_time}
    if str(path) == STDIN:
        return StdinSource(audio.sample_rate_hz, audio.block_ms, stop=stop, **shape)
    return FileSource(path, audio.sample_rate_hz, audio.block_ms, **shape)

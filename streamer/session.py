"""How a source and the emotion stream are put together, in one place for every command.

``ser-live`` and ``ser-batch`` both build their :class:`~streamer.stream.EmotionStream` here, so
a change to the segmenting or the model wiring reaches both; each recording gets a fresh stream
(all stream state reset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamer.classifier import Classifier
from streamer.settings import Settings
from streamer.sources.file import FileSource
from streamer.stream import ChannelChoice, EmotionStream


def build_stream(
    settings: Settings,
    model: Classifier,
    source: Any = None,
    channels: ChannelChoice = "mix",
    partial_every_s: float = 0.0,
) -> EmotionStream:
    """A fresh stream for ``source``'s blocks (already at the model's rate, the channels it
    was asked for). A file replayed as fast as possible runs on stream time (its rows then do
    not depend on when or where it was replayed). ``partial_every_s``: provisional results, for
    outputs that show them (0 = none)."""
    replay_start = None
    if isinstance(source, FileSource) and not source.realtime:
        replay_start = source.recording_start
    return EmotionStream(
        model,
        settings=settings,
        channels=channels,
        partial_every_s=partial_every_s,
        start_time=replay_start,
    )


def open_file(path: Path, settings: Settings, realtime: bool) -> FileSource:
    """A file source at the pipeline's rate (raises InputError for anything that is not audio)."""
    audio = settings.audio
    return FileSource(path, audio.sample_rate_hz, audio.block_ms, realtime=realtime)

"""How a source and the pipeline are put together, in one place for every command.

``ser-live`` and ``ser-batch`` both build their pipeline here, so a change to the segmenting or
the model wiring reaches both; each recording gets a fresh pipeline (all stream state reset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamer.pipeline import Model, Pipeline
from streamer.segmenter import Segmenter
from streamer.settings import Settings
from streamer.sources.file import FileSource
from streamer.vad import vad_from_settings


def build_pipeline(settings: Settings, model: Model, source: Any = None) -> Pipeline:
    """A fresh pipeline for one stream from ``source``. A file replayed as fast as possible runs
    on stream time (its rows then do not depend on when or where it was replayed)."""
    vad = vad_from_settings(settings.audio.sample_rate_hz, settings.vad)
    replay_start = None
    if isinstance(source, FileSource) and not source.realtime:
        replay_start = source.recording_start
    return Pipeline(Segmenter(vad, settings.segmenter), model, replay_start=replay_start)


def open_file(path: Path, settings: Settings, realtime: bool) -> FileSource:
    """A file source at the pipeline's rate (raises InputError for anything that is not audio)."""
    audio = settings.audio
    return FileSource(path, audio.sample_rate_hz, audio.block_ms, realtime=realtime)

"""The engine's parts made from settings, in one place for every command, the API, the benches
and training: the model (with its rate check), the segmenter (VAD, gain staging, cuts), and an
:class:`~streamer.engine.emotion_stream.EmotionStream` for a source.

Each setting is resolved here once: the pipeline's rate is the model's (``audio.sample_rate_hz``
must agree), provisional results come every ``segmenter.partial_every_s`` when something shows
them, and a source's pace and start decide how rows are stamped (:mod:`~streamer.engine.
timebase`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamer.errors import ConfigError
from streamer.features.config import SAMPLE_RATE
from streamer.settings import SegmenterSettings, Settings, VadSettings, shipped_or_path
from streamer.speech.segmenter import Segmenter
from streamer.speech.vad import vad_from_settings

if TYPE_CHECKING:
    from streamer.engine.emotion_stream import EmotionStream
    from streamer.model.classifier import Classifier


def load_model(settings: Settings, model: str | Path | Classifier | None = None) -> Classifier:
    """The model (default: ``model.path`` from the settings), refused in one line when it was
    trained at another rate than ``audio.sample_rate_hz``: every input is resampled to that one
    rate, so a second rate would only add a second resampling."""
    from streamer.model.classifier import Classifier

    if not isinstance(model, Classifier):
        path = settings.model.path if model is None else shipped_or_path(Path(model))
        model = Classifier(path)
    rate = settings.audio.sample_rate_hz
    if model.info.sample_rate != rate:
        raise ConfigError(
            f"audio.sample_rate_hz is {rate} but the model expects {model.info.sample_rate} Hz "
            f"audio; set it to {model.info.sample_rate} (every input is resampled to it)"
        )
    return model


def partial_cadence(settings: Settings, requested: float | None = None) -> float:
    """Seconds of speech between provisional results: ``requested``, or the settings' own
    (``segmenter.partial_every_s``); 0 = none."""
    every = settings.segmenter.partial_every_s if requested is None else requested
    if isinstance(every, bool) or not isinstance(every, (int, float)):
        raise ConfigError(f"partial_every_s must be a number of seconds (got {every!r})")
    if not (math.isfinite(every) and every >= 0):
        raise ConfigError(f"partial_every_s must be 0 (off) or positive (got {every})")
    return float(every)


def make_segmenter(
    vad: VadSettings,
    segmenter: SegmenterSettings,
    rate_hz: int = SAMPLE_RATE,
    partial_every_s: float = 0.0,
) -> Segmenter:
    """The segmenter ser-live runs: webrtcvad with its gain staging (``[vad]``), the cuts of
    ``[segmenter]``, at ``rate_hz``; ``partial_every_s`` as from :func:`partial_cadence`
    (training cuts clips with finals only)."""
    return Segmenter(vad_from_settings(rate_hz, vad), segmenter, partial_every_s)


def stream_for(
    source: Any, model: Classifier, settings: Settings, show_partials: bool
) -> EmotionStream:
    """A fresh stream for ``source``'s blocks (its rate, its channels, the channel choice it
    checked), stamped as its pace and start say. ``show_partials``: something shows provisional
    results (they cost a classification each, so only then)."""
    from streamer.engine.emotion_stream import EmotionStream
    from streamer.engine.timebase import Timebase

    return EmotionStream(
        model,
        settings=settings,
        sample_rate_hz=source.rate_hz,
        channels=source.channel_mode,
        input_channels=source.channels,
        partial_every_s=None if show_partials else 0.0,
        timebase=Timebase.for_source(source),
    )

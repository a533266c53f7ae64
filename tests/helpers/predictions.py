"""Hand-made predictions with known probabilities, for the view, sink and report tests."""

from __future__ import annotations

from datetime import datetime, timezone

from streamer.engine.channel_stream import Snapshot
from streamer.results import Prediction

LABELS = ("neutral", "happy", "sad", "angry")


def prediction(
    start_s: float, end_s: float, probabilities: tuple[float, ...], labels=LABELS
) -> Prediction:
    return Prediction(
        start_s=start_s,
        end_s=end_s,
        wall_time=datetime(2026, 1, 1, 12, tzinfo=timezone.utc),
        labels=tuple(labels),
        probabilities=tuple(probabilities),
        latency_ms=50.0,
    )


def one_hot(start_s: float, end_s: float, label: str, p: float = 0.85) -> Prediction:
    rest = (1 - p) / (len(LABELS) - 1)
    return prediction(start_s, end_s, tuple(p if x == label else rest for x in LABELS))


def snapshot(predictions=(), position_s=None, in_speech=False, speech_s=0.0, level_dbfs=-30.0):
    predictions = tuple(predictions)
    if position_s is None:
        position_s = (predictions[-1].end_s if predictions else 0.0) + 1.0
    return Snapshot(
        position_s=position_s,
        level_dbfs=level_dbfs,
        in_speech=in_speech,
        speech_s=speech_s,
        recent=predictions,
        utterances=len(predictions),
        latency_median_ms=40.0 + 5 * (len(predictions) - 1) if predictions else None,
        latency_p95_ms=40.0 + 9.5 * (len(predictions) - 1) if predictions else None,
    )


def screen(frame, width: int, height: int = 30) -> str:
    """The text of a Rich renderable drawn on a ``width`` x ``height`` terminal."""
    import io

    from rich.console import Console

    console = Console(
        record=True, width=width, height=height, file=io.StringIO(), force_terminal=True
    )
    console.print(frame)
    return console.export_text()

"""One place that turns a prediction into the fields every log format shares.

Columns: ``channel`` (only when the run analyses chosen channels: 1 = left, 2 = right, ...),
start and end in stream seconds, when the row was made, the arg-max label and its confidence,
``shown`` (the label as the live view and the stdout lines showed it: the arg-max, or
``uncertain`` below the run's threshold), one probability per class, the latency, and the
(valence, arousal) point the live view shows (empty when none of the model's labels has a place
on the plane; see :mod:`streamer.emotions`). JSON lines add ``final`` (false for provisional
results over an utterance still in progress). docs/csv.md describes every column.
"""

from __future__ import annotations

from datetime import datetime

from streamer.emotions import affect, shown_label
from streamer.results import Prediction


def iso_time(stamp: datetime | None) -> str:
    """ISO 8601 to the millisecond, with the time zone ("" when unknown)."""
    return stamp.isoformat(timespec="milliseconds") if stamp is not None else ""


def field_names(labels: tuple[str, ...], channel: bool = False) -> list[str]:
    return (
        (["channel"] if channel else [])
        + ["start_s", "end_s", "wall_time", "label", "confidence", "shown"]
        + [f"p_{label}" for label in labels]
        + ["latency_ms", "valence", "arousal"]
    )


def row_values(
    prediction: Prediction, uncertain_below: float, channel: bool = False
) -> list[object]:
    """The row of ``prediction``; ``uncertain_below``: the run's threshold (for ``shown``)."""
    point = affect(prediction.labels, prediction.probabilities)
    valence, arousal = (round(point[0], 4), round(point[1], 4)) if point else (None, None)
    return (
        ([prediction.channel] if channel else [])
        + [
            round(prediction.start_s, 3),
            round(prediction.end_s, 3),
            iso_time(prediction.wall_time),
            prediction.label,
            round(prediction.confidence, 4),
            shown_label(prediction, uncertain_below),
        ]
        + [round(p, 6) for p in prediction.probabilities]
        + [round(prediction.latency_ms, 1), valence, arousal]
    )

"""One place that turns a prediction into the fields every log format shares."""

from __future__ import annotations

from streamer.results import Prediction


def field_names(labels: tuple[str, ...]) -> list[str]:
    return (
        ["start_s", "end_s", "wall_time", "label", "confidence"]
        + [f"p_{label}" for label in labels]
        + ["latency_ms"]
    )


def row_values(prediction: Prediction) -> list[object]:
    return (
        [
            round(prediction.start_s, 3),
            round(prediction.end_s, 3),
            prediction.wall_time,
            prediction.label,
            round(prediction.confidence, 4),
        ]
        + [round(p, 6) for p in prediction.probabilities]
        + [round(prediction.latency_ms, 1)]
    )

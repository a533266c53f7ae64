"""Headless output: one line per utterance on stdout, for people and for grep.

   12.34-   14.80 s  emotion=angry      conf=0.72  valence=-0.43 arousal=+0.58  [angry=0.72 ...]

Every line has the same ``key=value`` fields in the same order, so ``grep emotion=angry`` or
``grep emotion=uncertain`` picks utterances out. ``emotion`` is gated (see
:mod:`streamer.emotions`); the bracket lists the most likely labels with their probabilities.
"""

from __future__ import annotations

import sys
from typing import TextIO

from streamer.emotions import affect, shown_label
from streamer.results import Prediction


def format_line(prediction: Prediction, uncertain_below: float, top: int = 3) -> str:
    ranked = " ".join(f"{label}={p:.2f}" for label, p in prediction.ranked()[:top])
    point = affect(prediction.labels, prediction.probabilities)
    mood = f"valence={point[0]:+.2f} arousal={point[1]:+.2f}" if point else "valence=- arousal=-"
    return (
        f"{prediction.start_s:8.2f}-{prediction.end_s:8.2f} s  "
        f"emotion={shown_label(prediction, uncertain_below):<10} "
        f"conf={prediction.confidence:.2f}  {mood}  [{ranked}]"
    )


class LineSink:
    def __init__(self, uncertain_below: float, stream: TextIO | None = None) -> None:
        self.uncertain_below = uncertain_below
        self.stream = stream or sys.stdout

    def write(self, prediction: Prediction) -> None:
        print(format_line(prediction, self.uncertain_below), file=self.stream, flush=True)

    def close(self) -> None:
        pass

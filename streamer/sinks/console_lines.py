"""Headless output: one human-readable, greppable line per utterance on stdout."""

from __future__ import annotations

import sys
from typing import TextIO

from streamer.results import Prediction


def format_line(prediction: Prediction, top: int = 3) -> str:
    ranked = prediction.ranked()
    others = " ".join(f"{label}={p:.2f}" for label, p in ranked[:top])
    return (
        f"{prediction.start_s:8.2f}-{prediction.end_s:8.2f}s  {prediction.label:<10} "
        f"{prediction.confidence:.2f}  [{others}]"
    )


class LineSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def write(self, prediction: Prediction) -> None:
        print(format_line(prediction), file=self.stream, flush=True)

    def close(self) -> None:
        pass

"""Headless output: one line per utterance on stdout, for people and for grep.

   12.34-   14.80 s  emotion=angry 72 %                  valence=-0.43 arousal=+0.58  [angry=0.72 …]
   15.10-   16.20 s  emotion=uncertain (leaning sad 38 %)  valence=-0.52 arousal=-0.20  [sad=0.38 …]

Every line has the same fields in the same order, so ``grep emotion=angry`` or
``grep emotion=uncertain`` picks utterances out. ``emotion`` is the result in the one wording of
:func:`streamer.emotions.shown_text` (the view's and the reports'; the logs' ``shown``, ``label``
and ``confidence``); the bracket lists the most likely labels with their probabilities.

When the reader goes away (``ser-live ... | head -1``) the lines stop and nothing else does: the
log files and the run carry on, and the summary still goes to stderr.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

from streamer.emotions import affect, shown_text, shown_width
from streamer.results import Prediction


def format_line(prediction: Prediction, uncertain_below: float, top: int = 3) -> str:
    ranked = " ".join(f"{label}={p:.2f}" for label, p in prediction.ranked()[:top])
    point = affect(prediction.labels, prediction.probabilities)
    mood = f"valence={point[0]:+.2f} arousal={point[1]:+.2f}" if point else "valence=- arousal=-"
    side = f"channel={prediction.channel}  " if prediction.channel is not None else ""
    shown = f"{shown_text(prediction, uncertain_below):<{shown_width(prediction.labels)}}"
    return (
        f"{prediction.start_s:8.2f}-{prediction.end_s:8.2f} s  {side}"
        f"emotion={shown}  {mood}  [{ranked}]"
    )


def silence_closed_stream(stream: TextIO) -> None:
    """Point a stream whose reader has gone at /dev/null, so that nothing (not even Python's
    flush at exit) fails on it again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class LineSink:
    def __init__(self, uncertain_below: float, stream: TextIO | None = None) -> None:
        self.uncertain_below = uncertain_below
        self.stream = stream or sys.stdout
        self.reader_gone = False

    def write(self, prediction: Prediction) -> None:
        if self.reader_gone or not prediction.final:  # one line per finished utterance
            return
        try:
            print(format_line(prediction, self.uncertain_below), file=self.stream, flush=True)
        except BrokenPipeError:
            self.reader_gone = True
            silence_closed_stream(self.stream)

    def close(self) -> None:
        pass

"""The values that flow down the pipeline: utterances cut by the segmenter and their predictions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no numpy at import: --help and --version load none of it
    import numpy as np

# Class names a model may carry: they reach CSV headers, HTML and the terminal, so only plain
# names (the one rule the model loader and ser-report both apply).
PLAIN_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech; times are seconds from the start of the stream."""

    start_s: float
    end_s: float
    samples: np.ndarray  # 16 kHz mono float32
    split: bool = False  # True when cut at max_utterance_s while speech went on
    closed_s: float | None = None  # stream time of the frame that closed it (hang-over, split, end)
    final: bool = True  # False: the utterance so far, while it is still being spoken

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Prediction:
    """What the model said about one utterance."""

    start_s: float
    end_s: float
    wall_time: datetime | None  # when the row was produced (with its time zone); None: unknown
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]
    latency_ms: float  # end of speech in the stream -> prediction ready
    # False: a provisional result over the utterance so far, while it is still being spoken
    # (``segmenter.partial_every_s``); the utterance's final row comes when it ends.
    final: bool = True
    channel: int | None = None  # 1-based input channel of its stream; None for the downmix
    # True when the utterance was cut at max_utterance_s while speech went on (a final only)
    split: bool = False

    @property
    def label(self) -> str:
        probs = self.probabilities
        return self.labels[max(range(len(probs)), key=probs.__getitem__)]  # first of ties

    @property
    def confidence(self) -> float:
        return float(max(self.probabilities))

    def ranked(self) -> list[tuple[str, float]]:
        """(label, probability) pairs, most likely first."""
        pairs = zip(self.labels, self.probabilities, strict=True)
        return sorted(pairs, key=lambda pair: -pair[1])

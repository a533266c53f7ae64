"""Run totals from every prediction: talk time per label, mean mood, the most intense moment.

A sink like the logs, so it sees every utterance of a run of any length and keeps a few numbers,
not the predictions. The live view's "so far" share and ser-batch's calls.csv read it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

from streamer.emotions import affect, shown_label
from streamer.results import Prediction


@dataclass(frozen=True)
class Moment:
    """The utterance with the highest arousal."""

    start_s: float
    end_s: float
    label: str
    arousal: float


class Totals:
    def __init__(self, uncertain_below: float = 0.0) -> None:
        self.uncertain_below = uncertain_below
        self._lock = threading.Lock()  # written by the run, read by the live view's thread
        self.utterances = 0
        self.speech_s = 0.0
        self._seconds: Counter[str] = Counter()  # per arg-max label
        self._shown: Counter[str] = Counter()  # per label as shown (uncertain gate applied)
        self._mood_s = 0.0  # talk time of utterances with a (valence, arousal) point
        self._valence = 0.0  # talk-time weighted sums
        self._arousal = 0.0
        self.most_intense: Moment | None = None

    def write(self, prediction: Prediction) -> None:
        if not prediction.final:  # provisional: the utterance is counted once, when it ends
            return
        seconds = max(0.0, prediction.end_s - prediction.start_s)
        point = affect(prediction.labels, prediction.probabilities)
        with self._lock:
            self.utterances += 1
            self.speech_s += seconds
            self._seconds[prediction.label] += seconds
            self._shown[shown_label(prediction, self.uncertain_below)] += seconds
            if point is not None:
                self._mood_s += seconds
                self._valence += seconds * point[0]
                self._arousal += seconds * point[1]
                if self.most_intense is None or point[1] > self.most_intense.arousal:
                    self.most_intense = Moment(
                        prediction.start_s, prediction.end_s, prediction.label, point[1]
                    )

    def close(self) -> None:
        pass

    def shares(self, shown: bool = False) -> dict[str, float]:
        """Fraction of talk time per label (arg-max, or as shown), largest first."""
        with self._lock:
            seconds = (self._shown if shown else self._seconds).most_common()
            total = sum(s for _, s in seconds)
        return {label: s / total for label, s in seconds} if total > 0 else {}

    def mood(self) -> tuple[float, float] | None:
        """Talk-time weighted mean (valence, arousal); None without utterances."""
        with self._lock:
            if self._mood_s <= 0:
                return None
            return self._valence / self._mood_s, self._arousal / self._mood_s

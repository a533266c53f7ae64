"""What calls.csv says about one recording, from every final row of its run (a sink).

For the whole recording (channel 0) and, when channels are analysed apart, for each channel:

- talk-time shares of the labels *as shown*: an utterance under the uncertain threshold counts
  as ``uncertain`` (the model's threshold, as ser-live shows it), so the shares of a recording
  sum to 1 with ``uncertain`` among them;
- talk-time weighted mean valence and arousal (every utterance, as the live view's mood);
- the utterance with the highest arousal (``peak_arousal``): the most activated moment,
  whatever its label;
- the dominant negative emotion (the label with negative valence on the circumplex, see
  :mod:`streamer.emotions`, shown for the most talk time) and its most confident instance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from streamer.emotions import CIRCUMPLEX, UNCERTAIN, affect, shown_label
from streamer.results import Prediction

NEGATIVE = frozenset(label for label, (valence, _) in CIRCUMPLEX.items() if valence < 0)


@dataclass(frozen=True)
class Moment:
    """One utterance: where it is, its label and the figure it was chosen by."""

    start_s: float
    end_s: float
    label: str
    value: float  # arousal for the peak, confidence for the negative instance


@dataclass(frozen=True)
class ChannelSummary:
    channel: int  # 0: everything analysed (the downmix, or all channels together)
    utterances: int = 0
    speech_s: float = 0.0
    shares: dict[str, float] = field(default_factory=dict)  # shown label -> talk-time share
    valence: float | None = None
    arousal: float | None = None
    peak_arousal: Moment | None = None
    dominant_negative: str = ""
    dominant_negative_share: float | None = None
    dominant_negative_peak: Moment | None = None  # its most confident instance


class _Tally:
    def __init__(self) -> None:
        self.utterances = 0
        self.speech_s = 0.0
        self.talk: Counter[str] = Counter()  # by shown label
        self.mood_s = self.valence = self.arousal = 0.0
        self.peak: Moment | None = None
        self.most_confident: dict[str, Moment] = {}  # by shown label

    def add(self, prediction: Prediction, shown: str) -> None:
        seconds = max(0.0, prediction.end_s - prediction.start_s)
        self.utterances += 1
        self.speech_s += seconds
        self.talk[shown] += seconds
        best = self.most_confident.get(shown)
        if best is None or prediction.confidence > best.value:
            self.most_confident[shown] = _moment(prediction, prediction.confidence)
        point = affect(prediction.labels, prediction.probabilities)
        if point is None:
            return
        self.mood_s += seconds
        self.valence += seconds * point[0]
        self.arousal += seconds * point[1]
        if self.peak is None or point[1] > self.peak.value:
            self.peak = _moment(prediction, point[1])

    def summary(self, channel: int) -> ChannelSummary:
        total = sum(self.talk.values())
        shares = {label: s / total for label, s in self.talk.most_common()} if total else {}
        negatives = [(s, label) for label, s in self.talk.items() if label in NEGATIVE and s > 0]
        dominant = max(negatives)[1] if negatives else ""
        mood = self.mood_s > 0
        return ChannelSummary(
            channel=channel,
            utterances=self.utterances,
            speech_s=self.speech_s,
            shares=shares,
            valence=self.valence / self.mood_s if mood else None,
            arousal=self.arousal / self.mood_s if mood else None,
            peak_arousal=self.peak,
            dominant_negative=dominant,
            dominant_negative_share=shares.get(dominant) if dominant else None,
            dominant_negative_peak=self.most_confident.get(dominant) if dominant else None,
        )


def _moment(prediction: Prediction, value: float) -> Moment:
    return Moment(prediction.start_s, prediction.end_s, prediction.label, value)


class CallSummary:
    """A sink: give it every prediction of a run; :meth:`summaries` at the end."""

    def __init__(self, uncertain_below: float, channels: int = 0) -> None:
        """``channels``: how many channels are analysed apart (0: one stream)."""
        self.uncertain_below = uncertain_below
        self.channels = channels
        self._all = _Tally()
        self._channels: dict[int, _Tally] = {}

    def write(self, prediction: Prediction) -> None:
        if not prediction.final:
            return
        shown = shown_label(prediction, self.uncertain_below)
        self._all.add(prediction, shown)
        if self.channels and prediction.channel is not None:
            self._channels.setdefault(prediction.channel, _Tally()).add(prediction, shown)

    def close(self) -> None:
        pass

    def summaries(self) -> tuple[ChannelSummary, ...]:
        """Channel 0 (everything) first, then each channel (one without an utterance too)
        when channels are analysed apart."""
        numbers = sorted(set(self._channels) | set(range(1, self.channels + 1)))
        per_channel = [self._channels.get(n, _Tally()).summary(n) for n in numbers]
        return (self._all.summary(0), *per_channel)


__all__ = ["NEGATIVE", "UNCERTAIN", "CallSummary", "ChannelSummary", "Moment"]

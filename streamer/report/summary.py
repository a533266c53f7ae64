"""The numbers and the few sentences a report leads with: talk time per emotion, the mood at the
start and at the end of the call, how sure the model was."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streamer.emotions import UNCERTAIN, affect, mood_word, shown_label, shown_text
from streamer.live.widgets import clock
from streamer.report.timeline import Timeline, channel_name
from streamer.results import Prediction


@dataclass(frozen=True)
class CallSummary:
    duration_s: float
    audio_known: bool  # False: duration_s only runs to the end of the last utterance
    speech_s: float
    utterances: int
    shares: tuple[tuple[str, float], ...]  # (shown label, fraction of talk time), largest first
    mean_confidence: float | None
    uncertain: int
    uncertain_below: float
    opening: tuple[float, float] | None  # (valence, arousal) of the first third of talk time
    closing: tuple[float, float] | None  # ... and of the last third
    most_confident: Prediction | None

    def lines(self) -> list[str]:
        """A short text summary, one sentence per line."""
        if not self.utterances:
            where = f"this {clock(self.duration_s)} recording" if self.audio_known else "this call"
            return [f"No speech was detected in {where}."]
        share_of = self.speech_s / self.duration_s if self.duration_s > 0 else 1.0
        length = "of audio" if self.audio_known else "up to the last utterance"
        lines = [
            f"{clock(self.duration_s)} {length}, {self.utterances} utterance"
            f"{'s' if self.utterances != 1 else ''}, {self.speech_s:.1f} s of speech "
            f"({share_of:.0%})."
        ]
        (top, top_share), rest = self.shares[0], self.shares[1:4]
        lead = f"Mostly {top} ({top_share:.0%} of talk time)"
        if rest:
            lead += ", then " + ", ".join(f"{label} {share:.0%}" for label, share in rest)
        lines.append(lead + ".")
        if self.opening is not None and self.closing is not None:
            if self.utterances >= 3:
                lines.append(f"Mood: started {_mood(self.opening)}, ended {_mood(self.closing)}.")
            else:
                lines.append(f"Mood: {_mood(self.closing)}.")
        lines.append(
            f"Mean confidence {self.mean_confidence:.0%}; {self.uncertain} of {self.utterances} "
            f"under {self.uncertain_below:.0%} shown as {UNCERTAIN}."
        )
        best = self.most_confident
        if best is not None:
            lines.append(
                f"Clearest moment: {shown_text(best, self.uncertain_below)} at "
                f"{clock(best.start_s, True)}–{clock(best.end_s, True)}."
            )
        return lines

    def side_line(self, name: str) -> str:
        """One side of a call (a channel) in one line: its talk, emotions and mood."""
        if not self.utterances:
            return f"{name.capitalize()}: no speech."
        text = (
            f"{name.capitalize()}: {self.utterances} utterance{'s' if self.utterances != 1 else ''}"
            f", {self.speech_s:.1f} s of speech"
        )
        (top, top_share), rest = self.shares[0], self.shares[1:4]
        text += f"; mostly {top} ({top_share:.0%})"
        if rest:
            text += ", then " + ", ".join(f"{label} {share:.0%}" for label, share in rest)
        if self.opening is not None and self.closing is not None:
            if self.utterances >= 3:
                text += f"; started {_mood(self.opening)}, ended {_mood(self.closing)}"
            else:
                text += f"; mood {_mood(self.closing)}"
        return text + "."


def _mood(point: tuple[float, float]) -> str:
    return f"{mood_word(*point)} (valence {point[0]:+.2f}, arousal {point[1]:+.2f})"


def _weighted_affect(predictions: Sequence[Prediction]) -> tuple[float, float] | None:
    points, weights = [], []
    for p in predictions:
        point = affect(p.labels, p.probabilities)
        if point is not None:
            points.append(point)
            weights.append(max(p.end_s - p.start_s, 1e-3))
    if not points:
        return None
    mean = np.average(np.asarray(points), axis=0, weights=weights)
    return float(mean[0]), float(mean[1])


def _thirds(predictions: Sequence[Prediction]) -> tuple[list[Prediction], list[Prediction]]:
    """Utterances in the first and in the last third of the talk time (at least one each)."""
    durations = np.array([p.end_s - p.start_s for p in predictions])
    before = np.cumsum(durations) - durations  # talk time before each utterance starts
    third = durations.sum() / 3
    first = [p for p, b in zip(predictions, before, strict=True) if b < third] or [predictions[0]]
    last = [
        p for p, b, d in zip(predictions, before, durations, strict=True) if b + d > 2 * third
    ] or [predictions[-1]]
    return first, last


def summarise(
    predictions: Sequence[Prediction],
    duration_s: float,
    uncertain_below: float,
    audio_known: bool = True,
) -> CallSummary:
    talk: dict[str, float] = defaultdict(float)
    for p in predictions:
        talk[shown_label(p, uncertain_below)] += max(0.0, p.end_s - p.start_s)
    speech_s = sum(talk.values())
    shares = tuple(
        sorted(((label, s / speech_s) for label, s in talk.items()), key=lambda item: -item[1])
        if speech_s > 0
        else ()
    )
    if not predictions:
        return CallSummary(
            duration_s, audio_known, 0.0, 0, (), None, 0, uncertain_below, None, None, None
        )
    first, last = _thirds(predictions)
    confident = [p for p in predictions if shown_label(p, uncertain_below) != UNCERTAIN]
    return CallSummary(
        duration_s=duration_s,
        audio_known=audio_known,
        speech_s=speech_s,
        utterances=len(predictions),
        shares=shares,
        mean_confidence=float(np.mean([p.confidence for p in predictions])),
        uncertain=len(predictions) - len(confident),
        uncertain_below=uncertain_below,
        opening=_weighted_affect(first),
        closing=_weighted_affect(last),
        most_confident=max(confident, key=lambda p: p.confidence, default=None),
    )


@dataclass(frozen=True)
class Side:
    """One channel of a call analysed channel by channel (``ser-live --channels each``)."""

    name: str  # "left", "right" or "channel N"
    predictions: tuple[Prediction, ...]
    summary: CallSummary


def sides(
    timeline: Timeline,
    duration_s: float,
    uncertain_below: float,
    audio_known: bool = True,
    audio_channels: int | None = None,
) -> tuple[Side, ...]:
    """Each channel's own summary when the timeline has more than one channel, else ()."""
    channels = timeline.channels
    if len(channels) < 2:
        return ()
    return tuple(
        Side(
            channel_name(channel, channels, audio_channels),
            timeline.of_channel(channel),
            summarise(timeline.of_channel(channel), duration_s, uncertain_below, audio_known),
        )
        for channel in channels
    )

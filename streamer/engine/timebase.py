"""How a stream's rows are stamped with a time of day and a latency — decided once, here.

Three cases:

- **live** (a microphone, a pipe without ``--start-time``): ``wall_time`` is the machine's clock
  when the row is made, ``latency_ms`` the time on that clock from the end of speech;
- **paced with a known start** (a recording replayed in real time with ``--start-time``):
  ``wall_time`` is the start plus the stream time at which the utterance closed; the latency is
  still measured on the clock;
- **replayed as fast as possible** (a file; a pipe with ``--start-time``): the machine's clock
  says nothing about the call, so both come from stream time: ``wall_time`` = start + the
  stream time at which the utterance closed, ``latency_ms`` = that time less the end of speech.
  The same file then gives the same rows on every replay, in every process.

A latency measured on the clock means what a listener waits only while the audio comes at its
own pace. Read from a pipe faster than real time (``cat call.wav | ser-live --input -``), the
rows queue up behind audio that arrived early, and the figure measures that backlog instead:
:func:`latency_name` says which a run's figure is, for the summary and the live view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from streamer.errors import ConfigError
from streamer.results import Utterance


@dataclass(frozen=True)
class Timebase:
    start: datetime | None = None  # when the stream's audio began; None: the machine's clock
    stream_latency: bool = False  # latency in stream time (a fast replay), not on the clock

    def __post_init__(self) -> None:
        if self.stream_latency and self.start is None:
            raise ValueError("stream-time latency needs the recording's start")

    @classmethod
    def of(cls, start_time: datetime | None, paced: bool) -> Timebase:
        """The API's terms: audio that began at ``start_time`` (None: unknown, use the clock),
        coming at its own pace (``paced``) or as fast as it is read."""
        return cls(start_time, stream_latency=start_time is not None and not paced)

    @classmethod
    def for_source(cls, source: Any) -> Timebase:
        """A recording replayed fast runs on stream time from its start (a file's modification
        time less its duration, or ``--start-time``); a paced one stamps rows with
        ``--start-time`` when given; anything else (the microphone) with the clock."""
        start = getattr(source, "recording_start", None)
        if not getattr(source, "realtime", True):
            return cls.of(start, paced=False)
        return cls.of(getattr(source, "start_time", None), paced=True)

    def stamp(
        self, utterance: Utterance, speech_ended: float, now: float
    ) -> tuple[float, datetime]:
        """(latency_ms, wall_time) of a row. ``speech_ended`` and ``now`` are clock readings
        (seconds, monotonic) of when the end of speech arrived and of now."""
        closed_s = utterance.end_s if utterance.closed_s is None else utterance.closed_s
        if self.stream_latency:
            latency_ms = max(0.0, (closed_s - utterance.end_s) * 1000.0)
            return latency_ms, self._at(closed_s)
        latency_ms = max(0.0, (now - speech_ended) * 1000.0)
        if self.start is None:
            return latency_ms, datetime.now(timezone.utc).astimezone()
        return latency_ms, self._at(closed_s)

    def _at(self, stream_s: float) -> datetime:
        """The start plus ``stream_s``; a ConfigError (one line) past the end of the calendar."""
        assert self.start is not None
        try:
            return self.start + timedelta(seconds=stream_s)
        except OverflowError:
            raise ConfigError(
                f"start time {self.start.isoformat()} plus {stream_s:.1f} s of audio runs past "
                "the last date a row can carry (9999-12-31); give an earlier start time"
            ) from None


FASTER_THAN_REAL_TIME = 1.25  # audio seconds per wall-clock second beyond which input is "fast"


def latency_name(audio_s: float, wall_s: float, on_clock: bool) -> str:
    """``"latency"``, or ``"backlog"`` when the figure was measured on the clock (``on_clock``)
    while the input came faster than real time (``audio_s`` of audio in ``wall_s``)."""
    if on_clock and wall_s > 0 and audio_s > FASTER_THAN_REAL_TIME * wall_s:
        return "backlog"
    return "latency"

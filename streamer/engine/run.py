"""Drives a source through its streams into the sinks, until the input ends or a stop is asked.

Whatever ends a run - the end of a file, ``--duration``, Ctrl-C/SIGTERM (which set ``stop``), or
the input failing mid-stream - every utterance already classified has reached the sinks, the
utterance in progress is classified (or dropped on a stop, by the ``flush_on_stop`` setting) and
a :class:`RunSummary` describes the run. A failing input raises :class:`InputLost`, which
carries that summary. A log file that cannot be written (disk full) ends the run the same way:
the other outputs get the utterance in progress, and :class:`LogLost` carries the summary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from streamer.engine.channel_stream import Snapshot
from streamer.engine.timebase import latency_name
from streamer.errors import LogWriteError, SourceError
from streamer.results import Prediction
from streamer.sinks import Sink
from streamer.sources import InputTruncated, Source


class Analyser(Protocol):
    """What a run drives: an :class:`~streamer.engine.emotion_stream.EmotionStream` (or one
    :class:`~streamer.engine.channel_stream.ChannelStream`)."""

    def feed(self, block: np.ndarray) -> list[Prediction]: ...

    def finish(self, classify_pending: bool = True) -> list[Prediction]: ...

    def snapshot(self) -> Snapshot: ...


@dataclass(frozen=True)
class RunSummary:
    utterances: int
    audio_s: float
    wall_s: float
    overruns: int
    dropped_s: float
    device_overflows: int
    latency_median_ms: float | None
    latency_p95_ms: float | None
    # "end of input", "time limit", "stop request", "input failure", "truncated input" (the
    # input ended before its header said), "log failure"
    ended_by: str
    non_speech: int = 0  # segments the model's gate judged noise, music or other non-speech
    latency_name: str = "latency"  # "backlog": measured on the clock, input faster than real time
    bad_samples: int = 0  # NaN/infinite/absurd samples the source replaced by silence

    def describe(self) -> str:
        parts = [
            f"{self.utterances} utterance{'s' if self.utterances != 1 else ''}",
            f"{self.audio_s:.1f} s of audio in {self.wall_s:.1f} s",
            f"ended by {self.ended_by}",
            f"overruns {self.overruns} ({self.dropped_s:.2f} s dropped)",
        ]
        if self.device_overflows:
            parts.append(f"device overflows {self.device_overflows}")
        if self.non_speech:
            parts.append(
                f"{self.non_speech} non-speech segment{'s' if self.non_speech != 1 else ''} "
                "not classified"
            )
        if self.bad_samples:
            parts.append(
                f"{self.bad_samples} bad sample{'s' if self.bad_samples != 1 else ''} "
                "(NaN, infinite or beyond +60 dBFS) replaced by silence"
            )
        if self.latency_median_ms is not None:
            figure = (
                f"{self.latency_name} median {self.latency_median_ms:.0f} ms, "
                f"p95 {self.latency_p95_ms:.0f} ms"
            )
            if self.latency_name == "backlog":
                figure += " (the input came faster than real time: not a live latency)"
            parts.append(figure)
        return "summary: " + "; ".join(parts)


class InputLost(SourceError):
    """The input failed mid-run (e.g. the microphone was unplugged). Everything heard before was
    classified and written; ``summary`` describes the run up to the failure."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary


class LogLost(LogWriteError):
    """A log file could not be written (e.g. the disk is full). Its rows so far are whole; the
    run stopped; ``summary`` describes it."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary


class _Outputs:
    """The sinks of a run: every prediction reaches each, in order. A log that cannot be
    written (disk full) leaves the run and stops it; the others keep getting predictions."""

    def __init__(self, sinks: Sequence[Sink], stop: threading.Event) -> None:
        self.live = list(sinks)
        self.failure: LogWriteError | None = None
        self._stop = stop

    def emit(self, predictions: list[Prediction]) -> None:
        for prediction in predictions:
            for sink in list(self.live):
                try:
                    sink.write(prediction)
                except LogWriteError as exc:
                    self.live.remove(sink)
                    self.failure = self.failure or exc
                    self._stop.set()


def _time_limit(duration_s: float | None, stop: threading.Event) -> tuple[Any, threading.Event]:
    """A timer that sets ``stop`` after ``duration_s`` (None: no limit), and the event that
    says it fired."""
    fired = threading.Event()
    if duration_s is None:
        return None, fired

    def time_up() -> None:
        fired.set()
        stop.set()

    timer = threading.Timer(duration_s, time_up)
    timer.daemon = True
    timer.start()
    return timer, fired


def run(
    source: Source,
    analyser: Analyser,
    sinks: Sequence[Sink],
    stop: threading.Event,
    classify_pending: bool = True,
    duration_s: float | None = None,
) -> RunSummary:
    """Run to the end of input, ``duration_s`` of wall-clock time, or ``stop`` being set.

    Sinks receive every prediction as soon as it exists. The utterance in progress when the run
    is stopped is classified, or dropped when ``classify_pending`` is false; at the end of input
    or when the input fails it is always classified (it is what was heard). A source error is
    raised as :class:`InputLost` after everything already classified has been written.
    """
    started = time.monotonic()
    timer, timed_out = _time_limit(duration_s, stop)
    outputs = _Outputs(sinks, stop)
    failure: SourceError | None = None
    try:
        try:
            for block in source.blocks(stop):
                outputs.emit(analyser.feed(block))
                if stop.is_set():
                    break
        except SourceError as exc:  # e.g. the device vanished: keep what was heard so far
            failure = exc
        stopped = stop.is_set() and failure is None and outputs.failure is None
        outputs.emit(analyser.finish(classify_pending=classify_pending or not stopped))
    finally:
        if timer is not None:
            timer.cancel()
    if failure is not None:
        ended_by = "truncated input" if isinstance(failure, InputTruncated) else "input failure"
    elif outputs.failure is not None:
        ended_by = "log failure"
    elif timed_out.is_set():
        ended_by = "time limit"
    else:
        ended_by = "stop request" if stop.is_set() else "end of input"
    timebase = getattr(analyser, "timebase", None)
    on_clock = timebase is not None and not timebase.stream_latency
    summary = _summary(source, analyser.snapshot(), time.monotonic() - started, ended_by, on_clock)
    if failure is not None:
        raise InputLost(str(failure), summary) from None
    if outputs.failure is not None:
        raise LogLost(str(outputs.failure), summary) from None
    return summary


def _summary(
    source: Source, snap: Snapshot, wall_s: float, ended_by: str, on_clock: bool
) -> RunSummary:
    return RunSummary(
        utterances=snap.utterances,
        audio_s=snap.position_s,
        wall_s=wall_s,
        overruns=source.stats.overruns,
        dropped_s=source.stats.dropped_s,
        device_overflows=source.stats.device_overflows,
        latency_median_ms=snap.latency_median_ms,
        latency_p95_ms=snap.latency_p95_ms,
        ended_by=ended_by,
        non_speech=snap.non_speech,
        latency_name=latency_name(snap.position_s, wall_s, on_clock),
        bad_samples=source.stats.bad_samples,
    )

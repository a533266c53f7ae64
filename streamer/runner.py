"""Drives a source through the pipeline into the sinks, until the input ends or a stop is asked.

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
from typing import Protocol

import numpy as np

from streamer.pipeline import Snapshot
from streamer.results import Prediction
from streamer.sinks import Sink
from streamer.sinks.rowfile import LogWriteError
from streamer.sources import Source, SourceError


class Stream(Protocol):
    """What a run drives: a :class:`~streamer.stream.EmotionStream` or a single pipeline."""

    def process(self, block: np.ndarray) -> list[Prediction]: ...

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
    ended_by: str  # "end of input", "time limit", "stop request", "input failure", "log failure"
    non_speech: int = 0  # segments the model's gate judged noise, music or other non-speech

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
        if self.latency_median_ms is not None:
            parts.append(
                f"latency median {self.latency_median_ms:.0f} ms, p95 {self.latency_p95_ms:.0f} ms"
            )
        return "summary: " + "; ".join(parts)


class InputLost(SourceError):
    """The input failed mid-run (e.g. the microphone was unplugged). Everything heard before was
    classified and written; ``summary`` describes the run up to the failure."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary


class LogLost(OSError):
    """A log file could not be written (e.g. the disk is full). Its rows so far are whole; the
    run stopped; ``summary`` describes it."""

    def __init__(self, message: str, summary: RunSummary) -> None:
        super().__init__(message)
        self.summary = summary


def run(
    source: Source,
    pipeline: Stream,
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
    timed_out = threading.Event()
    timer = None
    if duration_s is not None:

        def time_up() -> None:
            timed_out.set()
            stop.set()

        timer = threading.Timer(duration_s, time_up)
        timer.daemon = True
        timer.start()

    live_sinks = list(sinks)
    log_failure: LogWriteError | None = None

    def emit(predictions: list[Prediction]) -> None:
        nonlocal log_failure
        for prediction in predictions:
            for sink in list(live_sinks):
                try:
                    sink.write(prediction)
                except LogWriteError as exc:  # e.g. disk full: stop, keep the other outputs
                    live_sinks.remove(sink)
                    log_failure = log_failure or exc
                    stop.set()

    failure: SourceError | None = None
    try:
        try:
            for block in source.blocks(stop):
                emit(pipeline.process(block))
                if stop.is_set():
                    break
        except SourceError as exc:  # e.g. the device vanished: keep what was heard so far
            failure = exc
        stopped = stop.is_set() and failure is None and log_failure is None
        emit(pipeline.finish(classify_pending=classify_pending or not stopped))
    finally:
        if timer is not None:
            timer.cancel()
    snap = pipeline.snapshot()
    if failure is not None:
        ended_by = "input failure"
    elif log_failure is not None:
        ended_by = "log failure"
    elif timed_out.is_set():
        ended_by = "time limit"
    else:
        ended_by = "stop request" if stop.is_set() else "end of input"
    summary = RunSummary(
        utterances=snap.utterances,
        audio_s=snap.position_s,
        wall_s=time.monotonic() - started,
        overruns=source.stats.overruns,
        dropped_s=source.stats.dropped_s,
        device_overflows=source.stats.device_overflows,
        latency_median_ms=snap.latency_median_ms,
        latency_p95_ms=snap.latency_p95_ms,
        ended_by=ended_by,
        non_speech=snap.non_speech,
    )
    if failure is not None:
        raise InputLost(str(failure), summary) from None
    if log_failure is not None:
        raise LogLost(str(log_failure), summary) from None
    return summary

"""Progress of a batch run: a Rich bar on a terminal, one plain line per recording otherwise.

Both show recordings done, hours of audio done, audio hours per hour of wall time, the time left
(from the audio still to do at the rate so far) and the failures so far.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from streamer.batch.job import ERROR, CallResult
from streamer.live.widgets import clock


@dataclass
class Tally:
    total: int  # recordings to do in this run
    total_audio_s: float  # their audio, from the file headers
    done: int = 0
    failed: int = 0
    audio_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def add(self, result: CallResult, audio_s: float) -> None:
        self.done += 1
        self.failed += result.status == ERROR
        self.audio_s += audio_s

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Hours of audio per hour of wall time."""
        return self.audio_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        left = max(0.0, self.total_audio_s - self.audio_s)
        return left / self.rate if self.rate > 0 else None

    def describe(self) -> str:
        eta = "-" if self.eta_s is None or self.done == 0 else clock(self.eta_s)
        return (
            f"{self.done}/{self.total} recordings · {self.audio_s / 3600:.2f} h audio · "
            f"{self.rate:,.0f} h/h · ETA {eta} · {self.failed} failed"
        )


class PlainProgress:
    """A line per finished recording, for logs and pipes."""

    def __init__(self, tally: Tally, stream: TextIO | None = None) -> None:
        self.tally = tally
        self.stream = stream or sys.stderr

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, result: CallResult, name: str) -> None:
        what = result.status if not result.error else f"{result.status} ({result.error})"
        print(f"ser-batch: {self.tally.describe()} · {name}: {what}", file=self.stream, flush=True)


class RichProgress:
    def __init__(self, tally: Tally, console: Console | None = None) -> None:
        self.tally = tally
        self._progress = Progress(
            TextColumn("[bold]ser-batch"),
            BarColumn(),
            TextColumn("{task.fields[line]}"),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("batch", total=tally.total, line=tally.describe())

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.update(self._task, line=self.tally.describe())
        self._progress.stop()

    def update(self, result: CallResult, name: str) -> None:
        self._progress.update(self._task, completed=self.tally.done, line=self.tally.describe())
        if result.error:
            self._progress.console.print(f"[red]{name}[/]: {result.error}", highlight=False)


def progress_for(tally: Tally, stream: TextIO | None = None) -> PlainProgress | RichProgress:
    stream = stream or sys.stderr
    return RichProgress(tally) if stream.isatty() else PlainProgress(tally, stream)

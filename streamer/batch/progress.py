"""Progress of a batch run: a Rich bar on a terminal, one plain line per recording otherwise.

Progress is counted in audio, not recordings: with a few long files a count of recordings says
nothing about the time left. Both show the audio done of the audio to do (from the file
headers; recordings in progress count as far as their workers have read), the recordings done
as the second figure, audio hours per hour of wall time, the time left at that rate, and the
failures so far.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from streamer.batch.job import DONE, TRUNCATED, CallResult
from streamer.live.widgets import clock


def amount(seconds: float, scale_s: float) -> str:
    """Audio time in the unit that suits ``scale_s`` (the total): h, min or s."""
    if scale_s >= 3600:
        return f"{seconds / 3600:.2f} h"
    if scale_s >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


@dataclass
class Tally:
    total: int  # recordings to do in this run
    total_audio_s: float  # their audio, from the file headers
    done: int = 0
    failed: int = 0
    truncated: int = 0
    finished_audio_s: float = 0.0  # of the recordings done
    reading: dict[str, float] = field(default_factory=dict)  # in progress: seconds read so far
    started: float = field(default_factory=time.monotonic)

    def add(self, result: CallResult, audio_s: float) -> None:
        self.done += 1
        self.failed += result.status not in DONE
        self.truncated += result.status == TRUNCATED
        self.finished_audio_s += audio_s
        self.reading.pop(result.path, None)

    def read(self, key: str, seconds: float) -> None:
        """A recording in progress has been read this far."""
        self.reading[key] = seconds

    @property
    def audio_s(self) -> float:
        return self.finished_audio_s + sum(self.reading.values())

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
        eta = "-" if self.eta_s is None or self.audio_s <= 0 else clock(self.eta_s)
        total = self.total_audio_s
        share = f" ({min(1.0, self.audio_s / total):.0%})" if total > 0 else ""
        problems = f"{self.failed} failed" + (
            f", {self.truncated} truncated" if self.truncated else ""
        )
        return (
            f"{amount(self.audio_s, total)} of {amount(total, total)} audio{share} · "
            f"{self.done}/{self.total} recordings · {self.rate:,.0f} h/h · ETA {eta} · "
            f"{problems}"
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

    def tick(self) -> None:
        """Progress within recordings: shown by the bar only (a line per recording here)."""

    def update(self, result: CallResult, name: str) -> None:
        detail = result.error or result.note
        what = f"{result.status} ({detail})" if detail else result.status
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
        total = tally.total_audio_s if tally.total_audio_s > 0 else None
        self._task = self._progress.add_task("batch", total=total, line=tally.describe())

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.tick()
        self._progress.stop()

    def tick(self) -> None:
        self._progress.update(self._task, completed=self.tally.audio_s, line=self.tally.describe())

    def update(self, result: CallResult, name: str) -> None:
        self.tick()
        detail = result.error or result.note
        if detail:
            colour = "yellow" if result.status in DONE else "red"
            line = f"[{colour}]{escape(name)}[/]: {escape(detail)}"  # names are not markup
            self._progress.console.print(line, highlight=False)


def progress_for(tally: Tally, stream: TextIO | None = None) -> PlainProgress | RichProgress:
    stream = stream or sys.stderr
    return RichProgress(tally) if stream.isatty() else PlainProgress(tally, stream)

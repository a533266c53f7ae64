"""The live terminal view (Rich).

Rich's refresh thread calls the view ``refresh_hz`` times a second; each call takes a
:class:`~streamer.pipeline.Snapshot` (a consistent copy made under the pipeline's lock) and lays
it out, so drawing never holds up the audio path. Top to bottom:

- status: VAD state, input level, elapsed and audio time, utterances, latency, overruns;
- timeline: the rolling strip of utterances coloured per emotion, the smoothed trend, a key;
- now: the latest utterance's label (or "uncertain") with one probability bar per class, the
  share of talk time so far; mood: the arousal/valence plane (see :mod:`streamer.emotions`);
- recent utterances, when the terminal is wide (beside "now") or tall enough (below).
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from streamer.emotions import UNCERTAIN, colour_of, shown_label, trend
from streamer.pipeline import Snapshot
from streamer.results import Prediction
from streamer.settings import UiSettings
from streamer.sinks.totals import Totals
from streamer.sources import SourceStats
from streamer.widgets import (
    MoodGrid,
    ProbabilityBars,
    TimelineStrip,
    clock,
    level_meter,
    mood_caption,
    mood_points,
    on_colour,
)

WIDE_COLUMNS = 120  # from this width, recent utterances sit beside "now" and "mood"
BORDER = "grey35"


@dataclass(frozen=True)
class ViewInfo:
    """What the view needs besides the snapshot; fixed for a run."""

    source: str
    labels: tuple[str, ...]
    timeline_rows: int  # recent utterances listed
    timeline_col_s: float  # seconds of audio per column of the strip
    uncertain_below: float
    trend_alpha: float

    @classmethod
    def from_settings(cls, source: str, labels: tuple[str, ...], ui: UiSettings) -> ViewInfo:
        return cls(
            source, labels, ui.timeline_rows, ui.timeline_col_s, ui.uncertain_below, ui.trend_alpha
        )


def _status(snapshot: Snapshot, stats: SourceStats, info: ViewInfo, elapsed_s: float) -> Panel:
    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(no_wrap=True, min_width=14)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, justify="right")
    if snapshot.in_speech:
        vad = Text.assemble(("● SPEECH", "bold green"), (f" {snapshot.speech_s:4.1f} s", "green"))
    else:
        vad = Text("○ silence", style="grey58")
    times = Text.assemble(
        (f"elapsed {clock(elapsed_s)}", "bold"),
        (f"  audio {clock(snapshot.position_s, tenths=True)}", "grey70"),
    )
    grid.add_row(vad, level_meter(snapshot.level_dbfs), times)
    median, p95 = snapshot.latency_median_ms, snapshot.latency_p95_ms
    latency = f"latency {median:.0f} ms · p95 {p95:.0f} ms" if median is not None else "latency -"
    trouble = stats.overruns or stats.device_overflows
    overruns = Text(
        f"overruns {stats.overruns}"
        + (f" ({stats.dropped_s:.1f} s lost)" if stats.overruns else "")
        + (f" · device {stats.device_overflows}" if stats.device_overflows else ""),
        style="bold red" if trouble else "grey58",
    )
    count = Text(f"utterances {snapshot.utterances}")
    if snapshot.non_speech:
        count.append(f" · {snapshot.non_speech} non-speech", style="grey58")
    if snapshot.adapting:
        # the stream normaliser still leans on the training statistics (first ~20 utterances)
        count.append(" · adapting", style="yellow")
    grid.add_row(count, Text(latency, style="grey70"), overruns)
    title = Text.assemble(("ser-live", "bold white"), (f" · {info.source}", "grey70"))
    return Panel(grid, title=title, title_align="left", border_style=BORDER)


def _timeline(snapshot: Snapshot, info: ViewInfo, smoothed: Sequence[np.ndarray]) -> Panel:
    strip = TimelineStrip(
        snapshot.recent,
        smoothed,
        info.labels,
        snapshot.position_s,
        snapshot.speech_s if snapshot.in_speech else 0.0,
        info.timeline_col_s,
        info.uncertain_below,
    )
    return Panel(
        strip,
        title=Text.assemble(("timeline", "bold white"), (" · newest on the right", "grey58")),
        title_align="left",
        subtitle=Text(
            f"{info.timeline_col_s:g} s per column · trend = moving average, "
            f"newest weighs {info.trend_alpha:.0%}",
            style="grey50",
        ),
        subtitle_align="right",
        border_style=BORDER,
    )


def _shares_of(predictions: Sequence[Prediction], uncertain_below: float) -> dict[str, float]:
    """Share of talk time per shown label in ``predictions``, largest first."""
    seconds: Counter[str] = Counter()
    for p in predictions:
        seconds[shown_label(p, uncertain_below)] += max(0.0, p.end_s - p.start_s)
    total = sum(seconds.values())
    return {label: s / total for label, s in seconds.most_common()} if total > 0 else {}


def _talk_share(shares: dict[str, float]) -> Text:
    """The three largest shares of talk time so far."""
    text = Text("so far ", style="grey58")
    if not shares:
        return text.append("-")
    for i, (label, share) in enumerate(list(shares.items())[:3]):
        text.append(" · " if i else "", style="grey50")
        text.append(label, style=colour_of(label))
        text.append(f" {share:.0%}")
    return text


def _now(snapshot: Snapshot, info: ViewInfo, shares: dict[str, float] | None) -> Panel:
    last = snapshot.recent[-1] if snapshot.recent else None
    if last is None:
        title = Text.assemble(("now ", "bold white"), ("waiting for speech…", "grey58"))
        subtitle = None
    else:
        label = shown_label(last, info.uncertain_below)
        title = Text.assemble(
            ("now ", "bold white"),
            (f" {label.upper()} ", on_colour(colour_of(label)) + Style(bold=True)),
        )
        if label == UNCERTAIN:  # still say what the model leaned to
            title.append(f" {last.label}? {last.confidence:.0%}", style="grey70")
        else:
            title.append(f" {last.confidence:.0%} sure", style="grey70")
        subtitle = Text(
            f"#{snapshot.utterances} · {clock(last.start_s, True)}–{clock(last.end_s, True)}",
            style="grey50",
        )
    if shares is None:  # no run totals given: what the snapshot's recent utterances say
        shares = _shares_of(snapshot.recent, info.uncertain_below)
    share = _talk_share(shares)
    share.no_wrap, share.overflow = True, "ellipsis"
    body = Group(ProbabilityBars(info.labels, last), share)
    return Panel(
        body,
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="right",
        border_style=BORDER,
    )


def _mood(snapshot: Snapshot, info: ViewInfo, smoothed: Sequence[np.ndarray]) -> Panel:
    points = mood_points(snapshot.recent, smoothed, info.uncertain_below)
    rows = 5 if len(info.labels) <= 5 else 7
    return Panel(
        Group(MoodGrid(points, rows), *mood_caption(points)),
        title=Text.assemble(("mood", "bold white"), (" · valence → arousal ↑", "grey58")),
        title_align="left",
        border_style=BORDER,
    )


def _recent(snapshot: Snapshot, info: ViewInfo, rows: int) -> Panel:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="grey58")
    table.add_column("at", no_wrap=True, min_width=6)
    table.add_column("emotion", no_wrap=True, min_width=9)
    table.add_column("conf", justify="right", no_wrap=True, min_width=4)
    table.add_column("runner-up", no_wrap=True, overflow="ellipsis", style="grey58")
    for p in list(snapshot.recent)[-rows:][::-1]:
        label = shown_label(p, info.uncertain_below)
        runner_up = p.ranked()[1]
        table.add_row(
            clock(p.start_s, True),
            Text(label, style=colour_of(label)),
            f"{p.confidence:.0%}",
            f"{runner_up[0]} {runner_up[1]:.0%}",
        )
    return Panel(
        table,
        title=Text("recent utterances", style="bold white"),
        title_align="left",
        border_style=BORDER,
    )


class LiveView:
    """One frame of the view; it chooses its layout from the width and height it is given."""

    def __init__(
        self,
        snapshot: Snapshot,
        stats: SourceStats,
        info: ViewInfo,
        elapsed_s: float,
        shares: dict[str, float] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.stats = stats
        self.info = info
        self.elapsed_s = elapsed_s
        self.shares = shares  # talk time per shown label over the whole run

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        snap, info = self.snapshot, self.info
        smoothed = trend(snap.recent, info.trend_alpha)
        width = options.max_width
        height = options.height or console.height
        panels: list[RenderableType] = [_now(snap, info, self.shares), _mood(snap, info, smoothed)]
        wide = width >= WIDE_COLUMNS
        if wide:  # the recent list fits beside the others, as tall as the bars
            panels.append(_recent(snap, info, min(info.timeline_rows, len(info.labels) + 1)))
        middle = Table.grid(expand=True)
        for ratio in (1, 1, 1) if wide else (1, 1):
            middle.add_column(ratio=ratio)
        middle.add_row(*panels)
        status = _status(snap, self.stats, info, self.elapsed_s)
        top = Group(status, _timeline(snap, info, smoothed), middle)
        lines = console.render_lines(top, options.update(height=None), new_lines=True)
        for line in lines:
            yield from line
        # Below, the recent list gets what is left of the terminal (Live crops what overflows;
        # one line stays free for the cursor).
        spare = height - len(lines) - 1
        if not wide and snap.recent and spare >= 5:
            yield _recent(snap, info, min(info.timeline_rows, spare - 3))


def render(
    snapshot: Snapshot,
    stats: SourceStats,
    info: ViewInfo,
    elapsed_s: float | None = None,
    totals: Totals | None = None,
) -> RenderableType:
    """The frame for ``snapshot``; ``elapsed_s`` is wall-clock time since the run started
    (by default the snapshot's audio position); ``totals`` gives the "so far" share over the
    whole run (by default over the snapshot's recent utterances)."""
    elapsed = snapshot.position_s if elapsed_s is None else elapsed_s
    shares = totals.shares(shown=True) if totals is not None else None
    return LiveView(snapshot, stats, info, elapsed, shares)


def view_factory(
    snapshot: Callable[[], Snapshot],
    stats: SourceStats,
    info: ViewInfo,
    clock_s: Callable[[], float] = time.monotonic,
    totals: Totals | None = None,
) -> Callable[[], RenderableType]:
    """A ``get_renderable`` for :class:`rich.live.Live`; elapsed time counts from this call."""
    started = clock_s()
    return lambda: render(snapshot(), stats, info, clock_s() - started, totals)


def save_screenshot(frame: RenderableType, path: Path, width: int, height: int = 40) -> None:
    """Write ``frame`` as an SVG picture of a ``width``-column terminal (Rich's own export)."""
    console = Console(
        record=True,
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
    )
    console.print(frame)
    try:
        console.save_svg(str(path), title="ser-live")
    except OSError as exc:
        raise OSError(f"cannot write screenshot {path}: {exc.strerror}") from None

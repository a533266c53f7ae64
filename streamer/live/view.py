"""The live terminal view (Rich).

Rich's refresh thread calls the view ``refresh_hz`` times a second; each call takes a
:class:`~streamer.engine.channel_stream.Snapshot` (a consistent copy made under the stream's
lock), or one per channel, and lays it out, so drawing never holds up the audio path. Top to bottom:

- status: VAD state, input level, elapsed and audio time, utterances, latency, overruns (a
  two-row grid; stacked when the terminal is too narrow for it, rather than cut);
- timeline: the rolling strip of utterances coloured per emotion, the smoothed trend (one pair
  of rows per channel), one time axis, one key; speech still being spoken is ░, in the colour
  of its provisional result when the pipeline gives one (``Snapshot.partial``);
- now: the newest result (provisional ones marked so) and its channel, with one probability bar
  per class and the share of talk time so far; mood: the arousal/valence plane (see
  :mod:`streamer.emotions`);
- recent utterances, when the terminal is wide (beside "now") or tall enough (below).

A terminal too small for that (narrower than ``COMPACT_COLUMNS``, or too short to show "now"
below the timeline) gets a compact layout without boxes that starts with the speech state and
the current emotion.
"""

from __future__ import annotations

import io
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from streamer.emotions import UNCERTAIN, colour_of, shown_label, trend
from streamer.engine.channel_stream import Snapshot
from streamer.live.widgets import (
    MoodGrid,
    ProbabilityBars,
    TimelineStrip,
    Track,
    clock,
    level_meter,
    mood_caption,
    mood_points,
    on_colour,
)
from streamer.results import Prediction
from streamer.settings import UiSettings
from streamer.sinks.totals import Totals
from streamer.sources import SourceStats

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
    def from_settings(
        cls,
        source: str,
        labels: tuple[str, ...],
        ui: UiSettings,
        uncertain_below: float | None = None,
    ) -> ViewInfo:
        """``uncertain_below``: the threshold the run uses (default: the setting)."""
        threshold = ui.uncertain_below if uncertain_below is None else uncertain_below
        return cls(source, labels, ui.timeline_rows, ui.timeline_col_s, threshold, ui.trend_alpha)


Snapshots = Snapshot | Sequence[Snapshot]  # one stream, or one per channel


@dataclass(frozen=True)
class Stream:
    """One snapshot as the view draws it: its final results (a provisional one that reached
    ``recent`` is left out), their trend, and the name it goes by when there are several."""

    snapshot: Snapshot
    finals: tuple[Prediction, ...]
    smoothed: list[np.ndarray]
    name: str  # "ch1", "ch2", ...; "" for a single stream

    @classmethod
    def of(cls, snapshot: Snapshot, name: str, trend_alpha: float) -> Stream:
        recent = snapshot.recent
        finals = recent if all(p.final for p in recent) else tuple(p for p in recent if p.final)
        return cls(snapshot, finals, trend(finals, trend_alpha), name)

    @property
    def last(self) -> Prediction | None:
        return self.finals[-1] if self.finals else None


def _streams(snapshots: Snapshots, trend_alpha: float) -> tuple[Stream, ...]:
    if isinstance(snapshots, Snapshot):
        return (Stream.of(snapshots, "", trend_alpha),)
    snaps = tuple(snapshots)
    if not snaps:
        raise ValueError("the live view needs at least one snapshot")
    if len(snaps) == 1:
        return (Stream.of(snaps[0], "", trend_alpha),)
    return tuple(
        Stream.of(s, f"ch{s.channel if s.channel is not None else k}", trend_alpha)
        for k, s in enumerate(snaps, start=1)
    )


def _newest(streams: Sequence[Stream]) -> tuple[Prediction | None, Stream]:
    """The newest result across streams (a final wins a tie with a provisional one)."""
    best: tuple[Prediction | None, Stream] = (None, streams[0])
    key = (-math.inf, False)
    for stream in streams:
        for p in (stream.last, stream.snapshot.partial):
            if p is not None and (p.end_s, p.final) > key:
                best, key = (p, stream), (p.end_s, p.final)
    return best


def flow(parts: Sequence[Text], width: int, gap: int = 2) -> list[Text]:
    """``parts`` packed into lines no wider than ``width``, in order, ``gap`` spaces apart; a
    part wider than a line gets a line of its own (and wraps between words)."""
    lines: list[Text] = []
    line = Text()
    for part in parts:
        if not part.cell_len:
            continue
        if line.cell_len and line.cell_len + gap + part.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(" " * gap)
        line.append_text(part)
    if line.cell_len:
        lines.append(line)
    return lines


def _status_parts(
    streams: Sequence[Stream], stats: SourceStats, elapsed_s: float
) -> tuple[list[Text], list[Text]]:
    """(first row: speech state, level, times; second row: counts, latency, overruns)."""
    snaps = [s.snapshot for s in streams]
    speaking = [s for s in streams if s.snapshot.in_speech]
    if speaking:
        vad = Text("● SPEECH", style="bold green")
        for k, s in enumerate(speaking):
            vad.append(" ·" if k else "", style="green")
            vad.append(f" {s.name}" if s.name else "", style="bold green")
            vad.append(f" {s.snapshot.speech_s:4.1f} s", style="green")
    else:
        vad = Text("○ silence", style="grey58")
    loudest = max(streams, key=lambda s: _finite(s.snapshot.level_dbfs))
    level = level_meter(loudest.snapshot.level_dbfs, name=loudest.name)
    position = max(s.position_s for s in snaps)
    times = Text.assemble(
        (f"elapsed {clock(elapsed_s)}", "bold"),
        (f"  audio {clock(position, tenths=True)}", "grey70"),
    )
    medians = [s.latency_median_ms for s in snaps if s.latency_median_ms is not None]
    p95s = [s.latency_p95_ms for s in snaps if s.latency_p95_ms is not None]
    # several channels: the slowest channel's figures
    latency = (
        f"latency {max(medians):.0f} ms · p95 {max(p95s, default=0):.0f} ms"
        if medians
        else "latency -"
    )
    trouble = stats.overruns or stats.device_overflows
    overruns = Text(
        f"overruns {stats.overruns}"
        + (f" ({stats.dropped_s:.1f} s lost)" if stats.overruns else "")
        + (f" · device {stats.device_overflows}" if stats.device_overflows else ""),
        style="bold red" if trouble else "grey58",
    )
    count = Text(f"utterances {sum(s.utterances for s in snaps)}")
    non_speech = sum(s.non_speech for s in snaps)
    if non_speech:
        count.append(f" · {non_speech} non-speech", style="grey58")
    if any(s.adapting for s in snaps):
        # the stream normaliser still leans on the training statistics (first ~20 utterances)
        count.append(" · adapting", style="yellow")
    return [vad, level, times], [count, Text(latency, style="grey70"), overruns]


def _finite(dbfs: float) -> float:
    return dbfs if math.isfinite(dbfs) else -math.inf


STATUS_GAP = 2


def _status(
    streams: Sequence[Stream], stats: SourceStats, info: ViewInfo, elapsed_s: float, width: int
) -> Panel:
    first, second = _status_parts(streams, stats, elapsed_s)
    inner = width - 4  # border and padding
    columns = [max(a.cell_len, b.cell_len) for a, b in zip(first, second, strict=True)]
    columns[0] = max(14, columns[0])
    body: RenderableType
    if sum(columns) + STATUS_GAP * (len(columns) - 1) <= inner:  # the two-row grid fits
        grid = Table.grid(padding=(0, STATUS_GAP), expand=True)
        grid.add_column(no_wrap=True, min_width=14)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(*first)
        grid.add_row(*second)
        body = grid
    else:  # narrow: the same parts, stacked, so none is cut mid-word
        body = Group(*flow([*first, *second], inner, STATUS_GAP))
    title = Text.assemble(("ser-live", "bold white"), (f" · {info.source}", "grey70"))
    only = streams[0].snapshot.channel if len(streams) == 1 else None
    if only is not None:  # one channel picked out of several
        title.append(f" · channel {only}", style="grey70")
    return Panel(body, title=title, title_align="left", border_style=BORDER)


def _tracks(streams: Sequence[Stream]) -> list[Track]:
    return [
        Track(
            s.finals,
            s.smoothed,
            s.snapshot.speech_s if s.snapshot.in_speech else 0.0,
            s.snapshot.partial,
            s.name,
            s.snapshot.position_s,
        )
        for s in streams
    ]


def _timeline(streams: Sequence[Stream], info: ViewInfo) -> Panel:
    strip = TimelineStrip(
        _tracks(streams),
        info.labels,
        max(s.snapshot.position_s for s in streams),
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


def _shares_of(predictions: Iterable[Prediction], uncertain_below: float) -> dict[str, float]:
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


def headline(
    shown: Prediction | None, stream: Stream, info: ViewInfo, marked: bool = True
) -> Text:
    """The current emotion in one line: ``ANGRY 90% sure``, ``UNCERTAIN angry? 34%``, or, while
    an utterance is still being spoken, ``listening… ANGRY? 55% (provisional)`` (``marked=False``
    leaves out "(provisional)" for the caller to say elsewhere); after the channel's name when
    there are several."""
    text = Text(f"{stream.name} " if stream.name else "", style="bold white")
    if shown is None:
        return text.append("waiting for speech…", style="grey58")
    label = shown_label(shown, info.uncertain_below)
    if not shown.final:  # provisional: the label's colour, but not a solid band
        text.append("listening… ", style="grey58")
        text.append(f"{label.upper()}?", style=Style(color=colour_of(label), bold=True))
        if label == UNCERTAIN:
            text.append(f" {shown.label}", style="grey70")
        text.append(f" {shown.confidence:.0%}", style="grey70")
        return text.append(" (provisional)" if marked else "", style="grey58 italic")
    text.append(f" {label.upper()} ", on_colour(colour_of(label)) + Style(bold=True))
    if label == UNCERTAIN:  # still say what the model leaned to
        return text.append(f" {shown.label}? {shown.confidence:.0%}", style="grey70")
    return text.append(f" {shown.confidence:.0%} sure", style="grey70")


def _shares(streams: Sequence[Stream], info: ViewInfo, shares: dict[str, float] | None) -> Text:
    if shares is None:  # no run totals given: what the snapshots' recent utterances say
        shares = _shares_of((p for s in streams for p in s.finals), info.uncertain_below)
    share = _talk_share(shares)
    share.no_wrap, share.overflow = True, "ellipsis"
    return share


def _now(
    streams: Sequence[Stream], info: ViewInfo, shares: dict[str, float] | None, width: int
) -> Panel:
    """The newest result (``width``: the panel's, so its title is never cut)."""
    shown, stream = _newest(streams)
    title = Text("now ", style="bold white") + headline(shown, stream, info)
    subtitle = None
    if shown is not None:
        if shown.final:
            span = f"#{stream.snapshot.utterances} · {clock(shown.start_s, True)}–"
            subtitle = Text(span + clock(shown.end_s, True), style="grey50")
        else:  # still being spoken: where it started
            span = f"#{stream.snapshot.utterances + 1} from {clock(shown.start_s, True)}"
            subtitle = Text(span, style="grey50")
            if title.cell_len > width - 6:  # the title would be cut: the mark moves down here
                title = Text("now ", style="bold white") + headline(shown, stream, info, False)
                subtitle.append(" · provisional", style="grey58 italic")
    body = Group(ProbabilityBars(info.labels, shown), _shares(streams, info, shares))
    return Panel(
        body,
        title=title,
        title_align="left",
        subtitle=subtitle,
        subtitle_align="right",
        border_style=BORDER,
    )


def _mood(stream: Stream, shown: Prediction | None, info: ViewInfo) -> Panel:
    """The mood plane of ``stream``; its "now" point is ``shown`` (the same result as the "now"
    panel, provisional or not), its trend that of the final results."""
    predictions, smoothed = stream.finals, stream.smoothed
    if shown is not None and not shown.final and smoothed:
        predictions, smoothed = (*predictions, shown), [*smoothed, smoothed[-1]]
    elif shown is not None and not shown.final:
        predictions, smoothed = (shown,), [np.asarray(shown.probabilities, dtype=np.float64)]
    points = mood_points(predictions, smoothed, info.uncertain_below)
    rows = 5 if len(info.labels) <= 5 else 7
    title = Text.assemble(("mood", "bold white"), (" · valence → arousal ↑", "grey58"))
    if stream.name:
        title.append(f" · {stream.name}", style="grey58")
    return Panel(
        Group(MoodGrid(points, rows), *mood_caption(points)),
        title=title,
        title_align="left",
        border_style=BORDER,
    )


@dataclass(frozen=True)
class RecentList:
    """The latest utterances across streams, newest first, with columns sized to what they
    hold: ``h:mm:ss.t`` times and ``<longest label> 100%`` runner-ups are never cut."""

    rows: tuple[tuple[Prediction, str], ...]  # (prediction, stream name)
    channels: bool

    @classmethod
    def of(cls, streams: Sequence[Stream], rows: int) -> RecentList:
        pairs = [(p, s.name) for s in streams for p in s.finals[-rows:]]
        if len(streams) > 1:
            pairs.sort(key=lambda pair: pair[0].start_s)
        return cls(tuple(pairs[-rows:][::-1]), len(streams) > 1)

    def widths(self, labels: Sequence[str]) -> list[int]:
        name = max(len(label) for label in (*labels, UNCERTAIN))
        at = max((len(clock(p.start_s, True)) for p, _ in self.rows), default=6)
        ch = [max(2, *(len(n) for _, n in self.rows))] if self.channels and self.rows else []
        return [max(2, at), *ch, name, 4, name + 5]  # at, [ch], emotion, conf, runner-up

    def width(self, labels: Sequence[str]) -> int:
        """Cells the panel needs: its columns, one space between them, border and padding."""
        widths = self.widths(labels)
        return sum(widths) + len(widths) - 1 + 4

    def panel(self, info: ViewInfo) -> Panel:
        widths = iter(self.widths(info.labels))
        table = Table(
            box=None, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, header_style="grey58"
        )
        table.add_column("at", no_wrap=True, min_width=next(widths))
        if self.channels:
            table.add_column("ch", no_wrap=True, min_width=next(widths))
        table.add_column("emotion", no_wrap=True, min_width=next(widths))
        table.add_column("conf", justify="right", no_wrap=True, min_width=next(widths))
        table.add_column("runner-up", no_wrap=True, min_width=next(widths), style="grey58")
        for p, name in self.rows:
            label = shown_label(p, info.uncertain_below)
            runner_up = p.ranked()[1] if len(p.labels) > 1 else ("-", 0.0)
            cells: list[RenderableType] = [clock(p.start_s, True)]
            if self.channels:
                cells.append(name)
            cells += [
                Text(label, style=colour_of(label)),
                f"{p.confidence:.0%}",
                f"{runner_up[0]} {runner_up[1]:.0%}",
            ]
            table.add_row(*cells)
        return Panel(
            table,
            title=Text("recent utterances", style="bold white"),
            title_align="left",
            border_style=BORDER,
        )


COMPACT_COLUMNS = 50  # below this width (or a height the full layout cannot use): compact


class LiveView:
    """One frame of the view; it chooses its layout from the width and height it is given."""

    def __init__(
        self,
        snapshots: Snapshots,
        stats: SourceStats,
        info: ViewInfo,
        elapsed_s: float,
        shares: dict[str, float] | None = None,
    ) -> None:
        self.streams = _streams(snapshots, info.trend_alpha)
        self.stats = stats
        self.info = info
        self.elapsed_s = elapsed_s
        self.shares = shares  # talk time per shown label over the whole run

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        streams, info = self.streams, self.info
        width = options.max_width
        height = options.height or console.height
        unbounded = options.update(height=None)
        top: list[list[Segment]] = []
        if width >= COMPACT_COLUMNS:
            status = _status(streams, self.stats, info, self.elapsed_s, width)
            top = console.render_lines(
                Group(status, _timeline(streams, info)), unbounded, new_lines=True
            )
        # The full layout needs room below the status and timeline for at least the "now"
        # title and two bars; otherwise the compact one, which puts the current emotion first.
        if width < COMPACT_COLUMNS or len(top) + 3 > height - 1:
            lines = console.render_lines(Group(*self._compact(width)), unbounded, new_lines=True)
            for line in lines[: max(1, height - 1)]:
                yield from line
            return
        shown, stream = _newest(streams)
        middle = Table.grid(expand=True)
        middle.add_column(ratio=1)
        middle.add_column(ratio=1)
        beside: list[RenderableType] = []
        rest = width
        if width >= WIDE_COLUMNS:  # the recent list fits beside the others, as tall as the bars
            recent = RecentList.of(streams, min(info.timeline_rows, len(info.labels) + 1))
            rest -= recent.width(info.labels)
            middle.add_column(width=recent.width(info.labels))
            beside.append(recent.panel(info))
        middle.add_row(
            _now(streams, info, self.shares, rest // 2), _mood(stream, shown, info), *beside
        )
        lines = top + console.render_lines(middle, unbounded, new_lines=True)
        for line in lines:
            yield from line
        # Below, the recent list gets what is left of the terminal (Live crops what overflows;
        # one line stays free for the cursor).
        spare = height - len(lines) - 1
        if width < WIDE_COLUMNS and any(s.finals for s in streams) and spare >= 5:
            yield RecentList.of(streams, min(info.timeline_rows, spare - 3)).panel(info)

    def _compact(self, width: int) -> list[RenderableType]:
        """Small terminals: no boxes, the most important first (the frame is cut at the
        bottom): speech state and current emotion, the timeline rows, level and times, the
        counters, then the bars."""
        streams, info = self.streams, self.info
        first, second = _status_parts(streams, self.stats, self.elapsed_s)
        vad, level, times = first
        shown, stream = _newest(streams)
        parts: list[RenderableType] = list(flow([vad, headline(shown, stream, info)], width))
        parts.append(
            TimelineStrip(
                _tracks(streams),
                info.labels,
                max(s.snapshot.position_s for s in streams),
                info.timeline_col_s,
                info.uncertain_below,
                key=False,
            )
        )
        parts += flow([level, times, *second], width)
        parts.append(ProbabilityBars(info.labels, shown))
        parts.append(_shares(streams, info, self.shares))
        parts.append(Text.assemble(("ser-live", "bold"), (f" · {info.source}", "grey58")))
        return parts


def render(
    snapshots: Snapshots,
    stats: SourceStats,
    info: ViewInfo,
    elapsed_s: float | None = None,
    totals: Totals | None = None,
) -> RenderableType:
    """The frame for ``snapshots``: one :class:`Snapshot` (the downmix or one channel), or one
    per channel (each gets its own timeline rows; the "now" panel shows the newest result of any
    channel). ``elapsed_s`` is wall-clock time since the run started (by default the audio
    position); ``totals`` gives the "so far" share over the whole run (by default over the
    snapshots' recent utterances)."""
    if elapsed_s is None:
        one = (snapshots,) if isinstance(snapshots, Snapshot) else tuple(snapshots)
        elapsed_s = max((s.position_s for s in one), default=0.0)
    shares = totals.shares(shown=True) if totals is not None else None
    return LiveView(snapshots, stats, info, elapsed_s, shares)


def view_factory(
    get_snapshots: Callable[[], Snapshots],
    stats: SourceStats,
    info: ViewInfo,
    clock_s: Callable[[], float] = time.monotonic,
    totals: Totals | None = None,
) -> Callable[[], RenderableType]:
    """A ``get_renderable`` for :class:`rich.live.Live`; ``get_snapshots`` returns a Snapshot or
    one per channel. Elapsed time counts from this call."""
    started = clock_s()
    return lambda: render(get_snapshots(), stats, info, clock_s() - started, totals)


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

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

from streamer.emotions import (
    colour_of,
    shown_detail,
    shown_label,
    shown_width,
    trend,
)
from streamer.engine.channel_stream import Snapshot
from streamer.engine.timebase import latency_name
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
    on_clock: bool = True  # latency measured on the clock (not in a fast replay's stream time)

    @classmethod
    def from_settings(
        cls,
        source: str,
        labels: tuple[str, ...],
        ui: UiSettings,
        uncertain_below: float | None = None,
        on_clock: bool = True,
    ) -> ViewInfo:
        """``uncertain_below``: the threshold the run uses (default: the setting); ``on_clock``:
        latency is measured on the clock (then "backlog" when the input runs ahead of it)."""
        threshold = ui.uncertain_below if uncertain_below is None else uncertain_below
        return cls(
            source,
            labels,
            ui.timeline_rows,
            ui.timeline_col_s,
            threshold,
            ui.trend_alpha,
            on_clock,
        )


Snapshots = Snapshot | Sequence[Snapshot]  # one stream, or one per channel


@dataclass(frozen=True)
class Layout:
    """How much the boxed layout shows; a terminal too short for one gets the next of
    :data:`LAYOUTS`: first the colour key goes (the bars show each label's colour), then the
    mood plane's caption, then the bars go two abreast and the plane shrinks."""

    legend: bool = True
    caption: bool = True
    bar_columns: int = 1
    mood_rows: int | None = None  # None: 5 rows for up to five labels, else 7


LAYOUTS = (
    Layout(),
    Layout(legend=False),
    Layout(legend=False, caption=False),
    Layout(legend=False, caption=False, bar_columns=2),
    Layout(legend=False, caption=False, bar_columns=2, mood_rows=5),
)


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


def fitting(candidates: Sequence[Text], width: int) -> Text:
    """The first of ``candidates`` (fullest first) that fits in ``width`` cells, else the last:
    a panel's title or subtitle is shortened by whole words, never cut."""
    for text in candidates:
        if text.cell_len <= width:
            return text
    return candidates[-1]


def _status_parts(
    streams: Sequence[Stream], stats: SourceStats, elapsed_s: float, on_clock: bool = True
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
    # several channels: the slowest channel's figures; "backlog" when the input runs ahead of
    # the clock (a pipe read faster than real time), where the figure is no listener's latency
    name = latency_name(position, elapsed_s, on_clock)
    latency = (
        f"{name} {max(medians):.0f} ms · p95 {max(p95s, default=0):.0f} ms"
        if medians
        else f"{name} -"
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
    first, second = _status_parts(streams, stats, elapsed_s, info.on_clock)
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
    name = Text("ser-live", style="bold white")
    only = streams[0].snapshot.channel if len(streams) == 1 else None
    if only is not None:  # one channel picked out of several
        name.append(f" · channel {only}", style="grey70")
    whole = Text.assemble(name, (f" · {info.source}", "grey70"))
    if whole.cell_len <= width - 6:
        return Panel(body, title=whole, title_align="left", border_style=BORDER)
    # The source does not fit in the border: it heads the panel, wrapped between words.
    source = Text(info.source, style="grey70", overflow="fold")
    return Panel(Group(source, body), title=name, title_align="left", border_style=BORDER)


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


def _timeline(
    streams: Sequence[Stream], info: ViewInfo, width: int, legend: bool = True
) -> Panel:
    strip = TimelineStrip(
        _tracks(streams),
        info.labels,
        max(s.snapshot.position_s for s in streams),
        info.timeline_col_s,
        info.uncertain_below,
        legend=legend,
    )
    name = Text("timeline", style="bold white")
    title = fitting([Text.assemble(name, (" · newest on the right", "grey58")), name], width - 6)
    per_column = f"{info.timeline_col_s:g} s per column"
    subtitles = [
        f"{per_column} · trend = moving average, newest weighs {info.trend_alpha:.0%}",
        f"{per_column} · trend = moving average",
        per_column,
    ]
    subtitle = fitting([Text(text, style="grey50") for text in subtitles], width - 6)
    return Panel(
        strip,
        title=title,
        title_align="left",
        subtitle=subtitle,
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


def _talk_share(shares: dict[str, float], width: int) -> Text:
    """The largest shares of talk time so far, up to three, as many whole ones as ``width``
    takes."""
    text = Text("so far ", style="grey58")
    if not shares:
        return text.append("-")
    for i, (label, share) in enumerate(list(shares.items())[:3]):
        entry = Text(" · " if i else "", style="grey50")
        entry.append(label, style=colour_of(label))
        entry.append(f" {share:.0%}")
        if i and text.cell_len + entry.cell_len > width:
            break
        text.append_text(entry)
    return text


def headline(
    shown: Prediction | None,
    stream: Stream,
    info: ViewInfo,
    marked: bool = True,
    listening: bool = True,
) -> Text:
    """The current emotion in one line, in the wording of :func:`~streamer.emotions.shown_text`:
    ``ANGRY 90 %``, ``UNCERTAIN (leaning angry 34 %)``, or, while an utterance is still being
    spoken, ``listening… ANGRY? 55 % (provisional)`` (``marked=False`` leaves out
    "(provisional)", and a final result's detail, for the caller to say elsewhere;
    ``listening=False`` the word "listening…", for the narrowest panels); after the channel's
    name when there are several."""
    text = Text(f"{stream.name} " if stream.name else "", style="bold white")
    if shown is None:
        return text.append("waiting for speech…", style="grey58")
    label = shown_label(shown, info.uncertain_below)
    detail = shown_detail(shown, info.uncertain_below)
    if not shown.final:  # provisional: the label's colour, but not a solid band
        text.append("listening… " if listening else "", style="grey58")
        text.append(f"{label.upper()}?", style=Style(color=colour_of(label), bold=True))
        text.append(f" {detail}", style="grey70")
        return text.append(" (provisional)" if marked else "", style="grey58 italic")
    text.append(f" {label.upper()} ", on_colour(colour_of(label)) + Style(bold=True))
    return text.append(f" {detail}" if marked else "", style="grey70")


def _shares(
    streams: Sequence[Stream], info: ViewInfo, shares: dict[str, float] | None, width: int
) -> Text:
    if shares is None:  # no run totals given: what the snapshots' recent utterances say
        shares = _shares_of((p for s in streams for p in s.finals), info.uncertain_below)
    share = _talk_share(shares, width)
    share.no_wrap, share.overflow = True, "ellipsis"
    return share


def _now(
    streams: Sequence[Stream],
    info: ViewInfo,
    shares: dict[str, float] | None,
    width: int,
    layout: Layout,
) -> Panel:
    """The newest result (``width``: the panel's, so its title is never cut)."""
    shown, stream = _newest(streams)
    title = Text("now ", style="bold white") + headline(shown, stream, info)
    subtitles: list[Text] = []
    if shown is not None:
        final = shown.final
        number = stream.snapshot.utterances + (0 if final else 1)
        at = clock(shown.start_s, True)
        span = f"#{number} · {at}–{clock(shown.end_s, True)}" if final else f"#{number} from {at}"
        subtitles = [Text(span, style="grey50"), Text(f"#{number}", style="grey50")]
        if title.cell_len > width - 6:  # the title would be cut: its detail moves down here
            titles = [headline(shown, stream, info, False, brief) for brief in (True, False)]
            title = Text("now ", style="bold white") + fitting(titles, width - 10)
            more = shown_detail(shown, info.uncertain_below) if final else "provisional"
            subtitles = [
                *(Text.assemble((f"{more} · ", "grey70"), sub) for sub in subtitles),
                *subtitles,
            ]
    bars = ProbabilityBars(info.labels, shown, layout.bar_columns)
    return Panel(
        Group(bars, _shares(streams, info, shares, width - 4)),
        title=title,
        title_align="left",
        subtitle=fitting(subtitles, width - 6) if subtitles else None,
        subtitle_align="right",
        border_style=BORDER,
    )


def _mood(
    stream: Stream, shown: Prediction | None, info: ViewInfo, width: int, layout: Layout
) -> Panel:
    """The mood plane of ``stream``; its "now" point is ``shown`` (the same result as the "now"
    panel, provisional or not), its trend that of the final results. ``width``: the panel's."""
    predictions, smoothed = stream.finals, stream.smoothed
    if shown is not None and not shown.final and smoothed:
        predictions, smoothed = (*predictions, shown), [*smoothed, smoothed[-1]]
    elif shown is not None and not shown.final:
        predictions, smoothed = (shown,), [np.asarray(shown.probabilities, dtype=np.float64)]
    points = mood_points(predictions, smoothed, info.uncertain_below)
    rows = layout.mood_rows or (5 if len(info.labels) <= 5 else 7)
    name = Text("mood", style="bold white")
    whose = f" · {stream.name}" if stream.name else ""
    titles = [
        Text.assemble(name, (f" · valence → arousal ↑{whose}", "grey58")),
        Text.assemble(name, (whose, "grey58")),
    ]
    caption = mood_caption(points, width - 4) if layout.caption else []
    return Panel(
        Group(MoodGrid(points, rows), *caption),
        title=fitting(titles, width - 6),
        title_align="left",
        border_style=BORDER,
    )


@dataclass(frozen=True)
class RecentList:
    """The latest utterances across streams, newest first, each in the one wording of
    :func:`~streamer.emotions.shown_text` (``angry 72 %``, ``uncertain (leaning sad 38 %)``),
    with columns sized to what they hold, so neither a ``h:mm:ss.t`` time nor a result is cut."""

    rows: tuple[tuple[Prediction, str], ...]  # (prediction, stream name)
    channels: bool

    @classmethod
    def of(cls, streams: Sequence[Stream], rows: int) -> RecentList:
        pairs = [(p, s.name) for s in streams for p in s.finals[-rows:]]
        if len(streams) > 1:
            pairs.sort(key=lambda pair: pair[0].start_s)
        return cls(tuple(pairs[-rows:][::-1]), len(streams) > 1)

    def widths(self, labels: Sequence[str]) -> list[int]:
        at = max((len(clock(p.start_s, True)) for p, _ in self.rows), default=6)
        ch = [max(2, *(len(n) for _, n in self.rows))] if self.channels and self.rows else []
        return [max(2, at), *ch, shown_width(labels)]  # at, [ch], emotion

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
        for p, name in self.rows:
            label = shown_label(p, info.uncertain_below)
            cells: list[RenderableType] = [clock(p.start_s, True)]
            if self.channels:
                cells.append(name)
            shown = Text(label, style=colour_of(label))
            shown.append(f" {shown_detail(p, info.uncertain_below)}", style="grey70")
            cells.append(shown)
            table.add_row(*cells)
        return Panel(
            table,
            title=Text("recent utterances", style="bold white"),
            title_align="left",
            border_style=BORDER,
        )


MOOD_COLUMNS = 29  # the mood panel's narrowest: its plane and title whole
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
        width = options.max_width
        height = options.height or console.height
        unbounded = options.update(height=None)
        # Live crops what is taller than the terminal (one line stays free for the cursor): the
        # fullest layout that fits is drawn whole; failing all, the compact one.
        lines: list[list[Segment]] = []
        if width >= COMPACT_COLUMNS:
            lines = self._fitting_layout(console, unbounded, width, height)
        if width < COMPACT_COLUMNS or not lines:
            for columns in (1, 2):  # the bars two abreast when one column runs off the bottom
                compact = Group(*self._compact(width, columns))
                lines = console.render_lines(compact, unbounded, new_lines=True)
                two = ProbabilityBars(self.info.labels, None, 2).min_width() <= width
                if len(lines) <= height - 1 or not two:
                    break
            for line in lines[: max(1, height - 1)]:
                yield from line
            return
        for line in lines:
            yield from line
        # Below, the recent list gets what is left of the terminal.
        spare = height - len(lines) - 1
        if width < WIDE_COLUMNS and any(s.finals for s in self.streams) and spare >= 5:
            yield RecentList.of(self.streams, min(self.info.timeline_rows, spare - 3)).panel(
                self.info
            )

    def _fitting_layout(
        self, console: Console, options: ConsoleOptions, width: int, height: int
    ) -> list[list[Segment]]:
        """The lines of the fullest boxed layout that fits ``height`` (one line kept free); []
        when none does. The status and timeline are drawn once per colour-key choice, and a
        layout whose bars alone would not fit is not drawn at all (the view redraws 8 times a
        second)."""
        tops: dict[bool, list[list[Segment]]] = {}
        for layout in LAYOUTS:
            if layout.legend not in tops:
                status = _status(self.streams, self.stats, self.info, self.elapsed_s, width)
                timeline = _timeline(self.streams, self.info, width, layout.legend)
                group = Group(status, timeline)
                tops[layout.legend] = console.render_lines(group, options, new_lines=True)
            top = tops[layout.legend]
            bars = math.ceil(len(self.info.labels) / layout.bar_columns)
            if len(top) + bars + 3 > height - 1:  # borders and "so far": it cannot fit
                continue
            lines = top + self._middle(console, options, width, layout)
            if len(lines) <= height - 1:
                return lines
        return []

    def _middle(
        self, console: Console, options: ConsoleOptions, width: int, layout: Layout
    ) -> list[list[Segment]]:
        """"now" and "mood" side by side (and the recent list beside them on a wide
        terminal)."""
        streams, info = self.streams, self.info
        shown, stream = _newest(streams)
        beside: list[RenderableType] = []
        rest = width
        recent_width = 0
        if width >= WIDE_COLUMNS:  # the recent list fits beside the others, as tall as the bars
            recent = RecentList.of(streams, min(info.timeline_rows, len(info.labels) + 1))
            recent_width = recent.width(info.labels)
            rest -= recent_width
            beside.append(recent.panel(info))
        # "now" takes half of what is left, more when its title needs it (the mood plane reads
        # at MOOD_COLUMNS); a title that still does not fit moves its detail below (_now).
        need = (Text("now ") + headline(shown, stream, info)).cell_len + 6
        bars = ProbabilityBars(info.labels, None, layout.bar_columns).min_width() + 4
        now_width = max(rest // 2, min(max(need, bars), rest - MOOD_COLUMNS))
        middle = Table.grid(expand=True)
        middle.add_column(width=now_width)
        middle.add_column(ratio=1)
        if recent_width:
            middle.add_column(width=recent_width)
        middle.add_row(
            _now(streams, info, self.shares, now_width, layout),
            _mood(stream, shown, info, rest - now_width, layout),
            *beside,
        )
        return console.render_lines(middle, options, new_lines=True)

    def _compact(self, width: int, bar_columns: int = 1) -> list[RenderableType]:
        """Small terminals: no boxes, the most important first (the frame is cut at the
        bottom): speech state and current emotion, the timeline rows, level and times, the
        counters, then the bars."""
        streams, info = self.streams, self.info
        first, second = _status_parts(streams, self.stats, self.elapsed_s, info.on_clock)
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
        parts.append(ProbabilityBars(info.labels, shown, bar_columns))
        parts.append(_shares(streams, info, self.shares, width))
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

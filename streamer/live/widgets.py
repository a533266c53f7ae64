"""Rich renderables the live view is built from. Each one sizes itself to the width it is given,
so the same view reads at 80 columns and uses a wider terminal for more history."""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import Style
from rich.text import Text

from streamer.emotions import UNCERTAIN, affect, colour_of, mood_word, shown_label
from streamer.results import Prediction

EIGHTHS = " ▏▎▍▌▋▊▉█"  # partial blocks, left to right, for bars with 1/8-cell precision
HEIGHTS = "▁▂▃▄▅▆▇█"  # column heights for the trend row
LISTENING = "░"  # speech heard but not classified yet
SILENCE = "·"
TRACK = "grey27"  # the unfilled part of bars and silent cells


def clock(seconds: float, tenths: bool = False) -> str:
    """``m:ss`` (or ``h:mm:ss``); with ``tenths``, ``m:ss.t`` rounded to the nearest tenth exactly
    as ``f"{seconds:.1f}"`` rounds (1.2 s is ``0:01.2``, 59.96 s ``1:00.0``), so the view, the
    report and the logs' seconds agree. Without, the whole seconds gone by (a stopwatch: 59.9 s
    is still ``0:59``)."""
    seconds = max(0.0, seconds) if math.isfinite(seconds) else 0.0
    if tenths:  # count in whole tenths first, so a carry reaches seconds, minutes and hours
        whole, tenth = divmod(round(round(seconds, 1) * 10), 10)
    else:
        whole, tenth = int(seconds), 0
    hours, rest = divmod(int(whole), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{tenth}" if tenths else text


def on_colour(hex_colour: str) -> Style:
    """Black or white text on a background of ``hex_colour``, whichever reads better."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.299 * r + 0.587 * g + 0.114 * b
    return Style(color="#000000" if luminance > 140 else "#ffffff", bgcolor=hex_colour)


def bar(fraction: float, width: int, colour: str) -> Text:
    """A horizontal bar of ``width`` cells filled to ``fraction`` (eighth-cell precision)."""
    fraction = min(1.0, max(0.0, fraction)) if math.isfinite(fraction) else 0.0
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = Text("█" * full, style=colour)
    if part:
        text.append(EIGHTHS[part], style=colour)
    text.append("·" * (width - full - (1 if part else 0)), style=TRACK)
    return text


def level_meter(dbfs: float, width: int = 12, name: str = "") -> Text:
    """Input level from -60 to 0 dBFS: green, yellow above -12, red above -3 (near clipping);
    ``name`` says whose level it is (``level ch2 …``)."""
    shown = -60.0 if not math.isfinite(dbfs) else max(-60.0, min(0.0, dbfs))
    colour = "red" if shown > -3 else "yellow" if shown > -12 else "green"
    text = Text(f"level {name} " if name else "level ", style="dim")
    text.append_text(bar((shown + 60.0) / 60.0, width, colour))
    text.append(f" {shown:4.0f} dBFS" if shown > -60 else "  -∞ dBFS", style="dim")
    return text


def styled_runs(cells: Iterable[tuple[str, str]]) -> Text:
    """One Text from (character, style) cells, one span per run of equal style (cheaper to
    draw than a span per cell)."""
    text = Text()
    run, run_style = [], None
    for char, style in cells:
        if style != run_style and run:
            text.append("".join(run), style=run_style or "")
            run = []
        run.append(char)
        run_style = style
    if run:
        text.append("".join(run), style=run_style or "")
    return text


class ProbabilityBars:
    """One bar per class, in the model's label order so bars do not jump between utterances;
    ``columns=2`` sets them side by side, in half the height (label order runs down each)."""

    def __init__(
        self, labels: Sequence[str], prediction: Prediction | None, columns: int = 1
    ) -> None:
        self.labels = labels
        self.prediction = prediction
        self.columns = max(1, columns)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(self.min_width(), options.max_width)

    def min_width(self) -> int:
        """The narrowest the bars read at: every name, a 4-cell bar, the figure and the mark."""
        name = max(len(label) for label in self.labels)
        return (name + 13) * self.columns + 2 * (self.columns - 1)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        name_w = max(len(label) for label in self.labels)
        gap = 2
        cell_w = (options.max_width - gap * (self.columns - 1)) // self.columns
        bar_w = max(4, min(40, cell_w - name_w - 9))
        probs = self.prediction.probabilities if self.prediction else [0.0] * len(self.labels)
        best = int(np.argmax(probs)) if self.prediction else -1
        cells = []
        for i, (label, p) in enumerate(zip(self.labels, probs, strict=True)):
            winner = i == best
            cell = Text(f"{label:<{name_w}} ", style="bold" if winner else "")
            cell.append_text(bar(p, bar_w, colour_of(label)))
            number = f" {p:4.0%}" if self.prediction else "    -"
            cell.append(number, style="bold" if winner else "")
            cell.append(" ◀" if winner else "  ", style=colour_of(label))
            cells.append(cell)
        rows = math.ceil(len(cells) / self.columns)
        for r in range(rows):
            line = Text()
            for c in range(self.columns):
                k = c * rows + r
                if k < len(cells):
                    line.append(" " * gap if c else "")
                    line.append_text(cells[k])
            line.rstrip()
            yield line


@dataclass(frozen=True)
class MoodPoints:
    now: tuple[float, float] | None
    now_colour: str
    trend: tuple[float, float] | None
    history: tuple[tuple[tuple[float, float], str], ...]  # older points with their colours
    unplaced: bool = False  # utterances heard, but none of the model's labels has a point


class MoodGrid:
    """The arousal/valence plane: dim dots for recent utterances, ○ the smoothed trend,
    ● the latest utterance. Valence runs left (unpleasant) to right (pleasant), arousal up."""

    def __init__(self, points: MoodPoints, rows: int = 7) -> None:
        self.points = points
        self.rows = rows if rows % 2 else rows + 1

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(23, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(15, min(61, options.max_width))
        width -= 1 - width % 2  # odd, so the axis sits in the middle
        mid_col, mid_row = width // 2, self.rows // 2
        cells: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(self.rows)]
        for r in range(self.rows):
            cells[r][mid_col] = ("│", TRACK)
        cells[mid_row] = [("─", TRACK)] * width
        cells[mid_row][mid_col] = ("┼", TRACK)
        cells[0][mid_col] = ("▲", "grey50")
        cells[mid_row][width - 1] = ("▶", "grey50")
        bottom = self.rows - 1
        corners = (
            (0, "tense", False),
            (0, "excited", True),
            (bottom, "low", False),
            (bottom, "relaxed", True),
        )
        for row, word, right in corners:
            col = width - len(word) if right else 0
            for k, ch in enumerate(word):
                cells[row][col + k] = (ch, "grey42 italic")

        def place(point: tuple[float, float], char: str, style: str) -> None:
            valence, arousal = point
            col = round((min(1.0, max(-1.0, valence)) + 1) / 2 * (width - 1))
            row = round((1 - min(1.0, max(-1.0, arousal))) / 2 * (self.rows - 1))
            cells[row][col] = (char, style)

        for point, colour in self.points.history:
            place(point, "•", colour)
        if self.points.trend is not None:
            place(self.points.trend, "○", "bold white")
        if self.points.now is not None:
            place(self.points.now, "●", f"bold {self.points.now_colour}")
        for row in cells:
            yield styled_runs(row)


def legend(labels: Iterable[str], width: int) -> list[Text]:
    """Colour key packed into lines no wider than ``width``."""
    entries = [(f"█ {label}", colour_of(label)) for label in (*labels, UNCERTAIN)]
    entries.append((f"{LISTENING} listening", "white"))
    lines: list[Text] = []
    line = Text()
    for text, colour in entries:
        if line.cell_len and line.cell_len + 2 + len(text) > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append("  ")
        line.append(text[0], style=colour)
        line.append(text[1:], style="grey70")
    lines.append(line)
    return lines


@functools.lru_cache(maxsize=32)
def short_names(labels: tuple[str, ...]) -> dict[str, str]:
    """Each label's shortest prefix that no other label in ``labels`` starts with (ignoring
    case): with the default labels ``s`` would be both sad and surprised, so they get ``sa`` and
    ``su``. A label that begins another one (``sad``, ``sadness``) keeps its whole name."""
    lowered = [label.lower() for label in labels]
    names = {}
    for label, low in zip(labels, lowered, strict=True):
        others = [o for o in lowered if o != low]
        n = next(
            (k for k in range(1, len(low)) if not any(o.startswith(low[:k]) for o in others)),
            len(low),
        )
        names[label] = label[:n]
    return names


def band_name(label: str, cells: int, labels: Sequence[str] = ()) -> str:
    """What fits inside a band ``cells`` wide: the name, a prefix of three or more letters, or the
    shortest prefix (capitalised). Prefixes are unique within the model's ``labels``, so one never
    stands for two emotions, whatever the band's width."""
    if cells >= len(label) + 2:
        return label
    if label == UNCERTAIN:
        return "?" if cells >= 1 else ""
    short = short_names(tuple(labels) if label in labels else (label,))[label]
    middle = label[: max(3, len(short))]
    if cells >= len(middle) + 2:
        return middle
    return short[:1].upper() + short[1:] if cells >= max(2, len(short)) else ""


_TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class Track:
    """One stream's rows on the timeline: its utterances, their smoothed probabilities, the speech
    it is still listening to and, while it does, the latest provisional result over it."""

    predictions: Sequence[Prediction]
    smoothed: Sequence[np.ndarray]
    speech_s: float = 0.0  # length of the utterance in progress; 0 outside speech
    partial: Prediction | None = None
    name: str = ""  # in the gutter before "heard" ("ch1"), when there are several streams
    position_s: float | None = None  # this stream's "now", when it differs from the strip's


class TimelineStrip:
    """The rolling timeline: one character column per ``col_s`` of audio, newest on the right.

    Per track (one per channel; one for the downmix) ``heard``: each utterance as a band in its
    (gated) emotion's colour, named when it is wide enough; ░ marks speech still being listened
    to, in the colour of its provisional result when there is one. ``trend``: the smoothed emotion
    leading at that time, its height the smoothed probability. Then one time axis and one key
    (``key=False`` leaves both out, for the compact layout; ``legend=False`` only the key, when
    the terminal is short: the bars below show each label's colour too).
    """

    def __init__(
        self,
        tracks: Sequence[Track],
        labels: Sequence[str],
        position_s: float,
        col_s: float,
        uncertain_below: float,
        key: bool = True,
        legend: bool = True,
    ) -> None:
        self.tracks = tracks
        self.labels = labels
        self.position_s = position_s
        self.col_s = col_s
        self.uncertain_below = uncertain_below
        self.key = key
        self.legend = legend
        names = max((len(t.name) for t in tracks), default=0)
        self.gutter_names = names + 1 if names else 0
        self.gutter = self.gutter_names + 6  # ["ch1 "] "heard " / "trend "

    def span_s(self, width: int) -> float:
        return max(1, width - self.gutter) * self.col_s

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        cols = max(1, width - self.gutter)
        t0 = max(0.0, self.position_s - cols * self.col_s)
        centres = t0 + (np.arange(cols) + 0.5) * self.col_s
        for track in self.tracks:
            name = f"{track.name:<{self.gutter_names}}" if self.gutter_names else ""
            yield Text(f"{name}heard ", style="grey58") + self._heard(track, centres)
            yield Text(f"{' ' * len(name)}trend ", style="grey58") + self._trend(track, centres)
        if self.key:
            yield Text(" " * self.gutter) + self._axis(t0, cols)
            if self.legend:
                yield from legend(self.labels, width)

    def _heard(self, track: Track, centres: np.ndarray) -> Text:
        cols = len(centres)
        position = self.position_s if track.position_s is None else track.position_s
        chars = [" " if c > position else SILENCE for c in centres]
        styles = [TRACK] * cols
        lo, hi = float(centres[0]), float(centres[-1])
        for prediction in track.predictions:
            if prediction.end_s <= lo or prediction.start_s > hi:  # off the strip: skip numpy
                continue
            inside = np.flatnonzero((centres >= prediction.start_s) & (centres < prediction.end_s))
            if not len(inside):
                continue
            label = shown_label(prediction, self.uncertain_below)
            style = str(on_colour(colour_of(label)))
            first, n = int(inside[0]), len(inside)
            name = band_name(label, n, self.labels)
            offset = first + (n - len(name)) // 2
            for k in inside:
                chars[k], styles[k] = " ", style
            for k, ch in enumerate(name):
                chars[offset + k] = ch
        listening, colour = None, "white"
        if track.partial is not None:  # the model's provisional result over it so far
            listening = track.partial.start_s
            colour = colour_of(shown_label(track.partial, self.uncertain_below))
        if track.speech_s > 0:
            listening = position - track.speech_s
        if listening is not None:  # ░ rather than a solid band: still provisional
            for k in np.flatnonzero((centres >= listening) & (centres <= position)):
                chars[k], styles[k] = LISTENING, colour
        return styled_runs(zip(chars, styles, strict=True))

    def _trend(self, track: Track, centres: np.ndarray) -> Text:
        position = self.position_s if track.position_s is None else track.position_s
        starts = [p.start_s for p in track.predictions]
        cells: list[tuple[str, str]] = []
        for c in centres:
            k = bisect.bisect_right(starts, c) - 1
            if k < 0 or c > position:
                cells.append((" ", ""))
                continue
            state = track.smoothed[k]
            lead = int(np.argmax(state))
            # Height: how far the leader stands above chance (1/n) towards certainty (1).
            chance = 1.0 / len(state)
            strength = (float(state[lead]) - chance) / (1.0 - chance)
            height = HEIGHTS[max(0, min(7, math.ceil(strength * 8) - 1))]
            cells.append((height, colour_of(self.labels[lead])))
        return styled_runs(cells)

    def _axis(self, t0: float, cols: int) -> Text:
        step = next((s for s in _TICK_STEPS_S if s / self.col_s >= 10), _TICK_STEPS_S[-1])
        chars = [" "] * cols
        tick = math.ceil(t0 / step) * step
        while (col := int((tick - t0) / self.col_s)) < cols:
            label = "╵" + clock(tick)
            if col + len(label) <= cols:
                chars[col : col + len(label)] = label
            tick += step
        return Text("".join(chars), style="grey50")


def mood_points(
    predictions: Sequence[Prediction],
    smoothed: Sequence[np.ndarray],
    uncertain_below: float,
    history: int = 8,
) -> MoodPoints:
    """Where the last utterances, the trend and the latest utterance sit on the mood plane."""
    if not predictions:
        return MoodPoints(None, "white", None, ())
    last = predictions[-1]
    older = []
    for p in predictions[-history - 1 : -1]:
        point = affect(p.labels, p.probabilities)
        if point is not None:
            older.append((point, colour_of(shown_label(p, uncertain_below))))
    return MoodPoints(
        now=affect(last.labels, last.probabilities),
        now_colour=colour_of(shown_label(last, uncertain_below)),
        trend=affect(last.labels, smoothed[-1].tolist()),
        history=tuple(older),
        unplaced=affect(last.labels, [1.0] * len(last.labels)) is None,
    )


def mood_caption(points: MoodPoints, width: int = 40) -> list[Text]:
    """Two lines under the mood grid: the latest point in words and numbers, and the trend's;
    the numbers only when ``width`` leaves room for them."""
    if points.unplaced:  # a model with its own label set: its labels are shown plainly elsewhere
        return [Text("no mood point for these labels", style="dim"), Text("")]
    if points.now is None:
        return [Text("waiting for speech…", style="dim"), Text("")]
    lines = []
    for mark, name, point, colour in (
        ("●", "now  ", points.now, points.now_colour),
        ("○", "trend", points.trend, "white"),
    ):
        line = Text.assemble((f"{mark} ", colour), (f"{name} ", "grey70"))
        if point is not None:
            line.append(f"{mood_word(*point):<8}", style="bold")
            numbers = f" ({point[0]:+.2f}, {point[1]:+.2f})"
            if line.cell_len + len(numbers) <= width:
                line.append(numbers, style="grey58")
        line.no_wrap, line.overflow = True, "ellipsis"
        lines.append(line)
    return lines

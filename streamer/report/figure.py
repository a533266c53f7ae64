"""The report picture (matplotlib): the call over time on the left, its totals on the right.

Left, sharing one time axis: waveform and spectrogram with coloured emotion bands (when the audio
is given; otherwise a band strip), a band strip per channel when the call was analysed channel by
channel, the smoothed emotion mix, confidence per utterance, valence and arousal. Right: share of
talk time per emotion, and every utterance on the valence/arousal plane with the labels' anchor
points. Colours and the "uncertain" rule come from :mod:`streamer.emotions`, as in the live view.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.gridspec import SubplotSpec
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator, PercentFormatter

from streamer.emotions import CIRCUMPLEX, UNCERTAIN, affect, colour_of, shown_label, trend
from streamer.live.widgets import clock
from streamer.report.audio import AudioView
from streamer.report.summary import CallSummary, Side
from streamer.report.timeline import Timeline
from streamer.results import Prediction

INK = "#2b2f36"
FAINT = "#8a9099"
VALENCE_COLOUR = "#1f8a70"
AROUSAL_COLOUR = "#d1495b"


# Time ticks fall on whole clock steps (0:10, 1:00, 15:00, 1:00:00, ...), never at 41:40.
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)
MAX_TIME_TICKS = 9


def time_step(duration_s: float) -> float:
    """The tick step for a call of ``duration_s``: the smallest clock step that gives at most
    :data:`MAX_TIME_TICKS` intervals."""
    for step in TICK_STEPS_S:
        if duration_s / step <= MAX_TIME_TICKS:
            return float(step)
    return float(TICK_STEPS_S[-1] * math.ceil(duration_s / TICK_STEPS_S[-1] / MAX_TIME_TICKS))


def _time_axis(ax: Axes, duration_s: float, show_labels: bool) -> None:
    ax.set_xlim(0, max(duration_s, 1e-3))
    ax.xaxis.set_major_locator(MultipleLocator(time_step(duration_s)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: clock(t)))
    ax.tick_params(labelbottom=show_labels)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _spans(
    ax: Axes,
    spans: Sequence[tuple[float, float, str]],
    y: tuple[float, float],
    px_per_s: float,
    **style: object,
) -> None:
    """``(start_s, end_s, colour)`` spans from ``y[0]`` to ``y[1]`` (axes fraction) as one
    collection: thousands of utterances draw in a blink (an artist each took half a minute for
    a 6-hour call). A white edge sets bands apart where they are wide enough to show it."""
    if not spans:
        return
    boxes = [[(a, y[0]), (a, y[1]), (b, y[1]), (b, y[0])] for a, b, _ in spans]
    colours = [colour for _, _, colour in spans]
    wide = [(b - a) * px_per_s > 3 for a, b, _ in spans]  # a white edge would drown a thin band
    edges = ["white" if w else c for w, c in zip(wide, colours, strict=True)]
    ax.add_collection(
        PolyCollection(
            boxes,
            facecolors=colours,
            edgecolors=edges,
            linewidths=[0.5 if w else 0 for w in wide],
            transform=ax.get_xaxis_transform(),
            **style,
        ),
        autolim=False,
    )


def _bands(
    ax: Axes,
    predictions: Sequence[Prediction],
    uncertain_below: float,
    alpha: float,
    ribbon: tuple[float, float] | None = (0.9, 1.0),
    names: bool = True,
) -> None:
    """Each utterance as a coloured span; ``ribbon`` adds an opaque strip (axes fraction)
    holding the label's name where it fits. Uncertain utterances are hatched."""
    x0, x1 = ax.get_xlim()
    width_px = ax.get_window_extent().width if ax.figure is not None else 800.0
    px_per_s = width_px / max(x1 - x0, 1e-9)
    shown = [(p, shown_label(p, uncertain_below)) for p in predictions]
    spans = [(p.start_s, p.end_s, colour_of(label)) for p, label in shown]
    if alpha > 0:
        _spans(ax, spans, (0.0, 1.0), 0.0, alpha=alpha, zorder=0)
    if ribbon is None:
        return
    sure = [span for span, (_, label) in zip(spans, shown, strict=True) if label != UNCERTAIN]
    unsure = [span for span, (_, label) in zip(spans, shown, strict=True) if label == UNCERTAIN]
    _spans(ax, sure, ribbon, px_per_s, zorder=3)
    _spans(ax, unsure, ribbon, px_per_s, hatch="///", zorder=3)
    if not names:
        return
    for p, label in shown:
        if (p.end_s - p.start_s) * px_per_s > 7.5 * len(label) + 6:
            ax.text(
                (p.start_s + p.end_s) / 2,
                (ribbon[0] + ribbon[1]) / 2,
                label,
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if label in (UNCERTAIN, "sad", "angry") else INK,
                zorder=4,
                # in the band's colour round the letters: readable over the hatching too
                path_effects=[patheffects.withStroke(linewidth=2.5, foreground=colour_of(label))],
            )


def _waveform(ax: Axes, audio: AudioView, timeline: Timeline, uncertain_below: float) -> None:
    ax.fill_between(
        audio.envelope_t, audio.envelope_min, audio.envelope_max, color=INK, lw=0, zorder=2
    )
    peak = float(max(np.max(np.abs(audio.envelope_max)), np.max(np.abs(audio.envelope_min)), 1e-3))
    ax.set_ylim(-peak * 1.05, peak * 1.35)  # head room for the ribbon
    ax.set_yticks([])
    ax.set_ylabel("waveform", color=FAINT)
    _bands(ax, timeline.predictions, uncertain_below, alpha=0.28, ribbon=(0.86, 1.0))


def _spectrogram(ax: Axes, audio: AudioView, timeline: Timeline, uncertain_below: float) -> None:
    db = audio.spectrogram_db
    if db.size:
        top = float(db.max())
        ax.imshow(
            db,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=top - 80,
            vmax=top,
            extent=(0, audio.duration_s, 0, float(audio.spectrogram_hz[-1]) / 1000),
            interpolation="nearest",
            zorder=1,
        )
    ax.set_ylabel("kHz", color=FAINT)
    _bands(ax, timeline.predictions, uncertain_below, alpha=0.0, ribbon=(0.0, 0.05), names=False)


def _strip(ax: Axes, timeline: Timeline, uncertain_below: float) -> None:
    """Without audio: the utterances alone, as a band strip."""
    ax.set_yticks([])
    ax.set_ylabel("emotion", color=FAINT)
    _bands(ax, timeline.predictions, uncertain_below, alpha=0.0, ribbon=(0.1, 0.9))


def _side_strip(ax: Axes, side: Side, uncertain_below: float) -> None:
    """One channel's utterances as a band strip, named on the left."""
    ax.set_yticks([])
    ax.set_ylabel(side.name, color=INK, rotation=0, ha="right", va="center", fontsize=10)
    _bands(ax, side.predictions, uncertain_below, alpha=0.0, ribbon=(0.1, 0.9))


def _step(predictions: Sequence[Prediction], end_s: float) -> np.ndarray:
    """x for a step curve holding each utterance's value until the next one starts."""
    starts = [p.start_s for p in predictions]
    edges = [*starts[1:], max(end_s, starts[-1])]
    return np.array([x for pair in zip(starts, edges, strict=True) for x in pair])


def _mix(ax: Axes, timeline: Timeline, alpha: float, end_s: float) -> None:
    smoothed = np.array(trend(timeline.predictions, alpha))  # (utterances, labels)
    x = _step(timeline.predictions, end_s)
    y = np.repeat(smoothed, 2, axis=0).T
    ax.stackplot(x, y, colors=[colour_of(label) for label in timeline.labels], lw=0)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("emotion mix", color=FAINT)
    ax.set_title(
        f"smoothed emotion mix (moving average, newest utterance weighs {alpha:.0%})",
        loc="left",
        fontsize=9,
        color=FAINT,
    )


def _confidence(ax: Axes, timeline: Timeline, uncertain_below: float) -> None:
    ax.axhspan(0, uncertain_below, color="#eceef1", lw=0, zorder=0)
    ax.axhline(uncertain_below, color=FAINT, lw=0.8, ls="--", zorder=1)
    # Above the plot, not in it: on a long call the points would cover it.
    ax.set_title(
        f"confidence per utterance; shaded: shown as uncertain (< {uncertain_below:.0%})",
        loc="left",
        fontsize=9,
        color=FAINT,
    )
    predictions = timeline.predictions
    colours = [colour_of(p.label) for p in predictions]
    segments = [[(p.start_s, p.confidence), (p.end_s, p.confidence)] for p in predictions]
    ax.add_collection(  # one collection, not an artist per utterance (see _spans)
        LineCollection(segments, colors=colours, linewidths=3.5, capstyle="butt", zorder=2),
        autolim=False,
    )
    ax.scatter(
        [(p.start_s + p.end_s) / 2 for p in predictions],
        [p.confidence for p in predictions],
        s=16,
        c=colours,
        linewidths=0,
        zorder=3,
    )
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("confidence", color=FAINT)


def _affect_course(ax: Axes, timeline: Timeline, alpha: float, end_s: float) -> None:
    ax.axhline(0, color=FAINT, lw=0.6)
    points = [affect(p.labels, p.probabilities) for p in timeline.predictions]
    smoothed = [affect(timeline.labels, s) for s in trend(timeline.predictions, alpha)]
    if any(pt is None for pt in points):  # labels without a circumplex position
        ax.text(
            0.5,
            0.5,
            "labels have no arousal/valence mapping",
            ha="center",
            transform=ax.transAxes,
            color=FAINT,
        )
        return
    mids = [(p.start_s + p.end_s) / 2 for p in timeline.predictions]
    x = _step(timeline.predictions, end_s)
    for k, (name, colour) in enumerate((("valence", VALENCE_COLOUR), ("arousal", AROUSAL_COLOUR))):
        ax.plot(x, np.repeat([s[k] for s in smoothed], 2), color=colour, lw=2, label=name)  # type: ignore[index]
        ax.plot(mids, [pt[k] for pt in points], "o", ms=3.5, color=colour, alpha=0.5)  # type: ignore[index]
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("valence / arousal", color=FAINT)
    # The key sits above the plot, where no point can cover it.
    ax.legend(
        loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=8, frameon=False, ncol=2,
        borderaxespad=0.1,
    )


def _shares(ax: Axes, summary: CallSummary) -> None:
    labels = [label for label, _ in summary.shares]
    shares = [share for _, share in summary.shares]
    rows = len(labels) - 1 - np.arange(len(labels))  # largest on top
    colours = [colour_of(label) for label in labels]
    ax.barh(rows, shares, height=0.7, color=colours)
    for row, share in zip(rows, shares, strict=True):
        ax.text(share + 0.01, row, f"{share:.0%}", va="center", fontsize=9, color=INK)
    ax.set_yticks(rows, labels)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlim(0, max([*shares, 0.01]) * 1.25)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_title("share of talk time", loc="left", fontsize=10, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _key(ax: Axes, labels: Sequence[str]) -> None:
    """The colour of every label the model knows, and of "uncertain"."""
    ax.axis("off")
    handles = [Patch(color=colour_of(label), label=label) for label in (*labels, UNCERTAIN)]
    ax.legend(
        handles=handles,
        loc="center left",
        ncol=2,
        frameon=False,
        fontsize=9,
        title="colours",
        title_fontsize=10,
        alignment="left",
    )


PATH_UTTERANCES = 30  # up to this many, the plane joins the points and marks start and end


def _plane(ax: Axes, timeline: Timeline, uncertain_below: float) -> None:
    """Every utterance on the valence/arousal plane, with the labels' anchor points named on
    top (outlined, so a cloud of points never hides them). A short call's points are joined in
    order with its start and end marked; a long call's are smaller and see-through."""
    ax.axhline(0, color="#d5d9de", lw=0.8, zorder=0)
    ax.axvline(0, color="#d5d9de", lw=0.8, zorder=0)
    outline = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    anchors = [(label, point) for label, point in CIRCUMPLEX.items() if label in timeline.labels]
    for label, (v, a) in anchors:
        ax.text(
            v, a, label, fontsize=7, color=FAINT, ha="center", va="center", zorder=5,
            path_effects=outline,
        )
    for x, y, word, ha, va in (
        (-1, 1, "tense", "left", "top"),
        (1, 1, "excited", "right", "top"),
        (-1, -1, "low", "left", "bottom"),
        (1, -1, "relaxed", "right", "bottom"),
    ):
        ax.text(x, y, word, fontsize=8, style="italic", color="#b0b5bc", ha=ha, va=va, zorder=5)
    kept = [(p, affect(p.labels, p.probabilities)) for p in timeline.predictions]
    kept = [(p, pt) for p, pt in kept if pt is not None]
    if kept:
        _points(ax, kept, uncertain_below, [point for _, point in anchors], outline)
    ax.set_xlim(-1.08, 1.08)
    ax.set_ylim(-1.08, 1.08)
    ax.set_aspect("equal")
    ax.set_xlabel("valence (unpleasant → pleasant)", fontsize=8, color=FAINT)
    ax.set_ylabel("arousal (passive → active)", fontsize=8, color=FAINT)
    ax.tick_params(labelsize=7)
    ax.set_title("utterances on the mood plane", loc="left", fontsize=10, color=INK)


def _points(
    ax: Axes,
    kept: list[tuple[Prediction, tuple[float, float]]],
    uncertain_below: float,
    anchors: list[tuple[float, float]],
    outline: list,
) -> None:
    xs = [pt[0] for _, pt in kept]
    ys = [pt[1] for _, pt in kept]
    colours = [colour_of(shown_label(p, uncertain_below)) for p, _ in kept]
    short = len(kept) <= PATH_UTTERANCES
    scale = 1.0 if short else max(0.15, math.sqrt(PATH_UTTERANCES / len(kept)))
    sizes = [scale * (20 + 25 * (p.end_s - p.start_s)) for p, _ in kept]
    if short:
        ax.plot(xs, ys, color="#c4c9cf", lw=0.8, zorder=2)
    ax.scatter(
        xs, ys, s=sizes, c=colours, edgecolors="white", linewidths=0.6 * scale,
        alpha=1.0 if short else 0.6, zorder=3,
    )
    if not short:
        return
    for word, (x, y) in (("start", (xs[0], ys[0])), ("end", (xs[-1], ys[-1]))):
        # away from the nearest anchor label, so the two never sit on each other
        ax_, ay = min(anchors, key=lambda a: math.hypot(a[0] - x, a[1] - y), default=(0, 0))
        right, up = x >= ax_, y >= ay
        ax.annotate(
            word,
            (x, y),
            xytext=(6 if right else -6, 7 if up else -7),
            textcoords="offset points",
            ha="left" if right else "right",
            va="bottom" if up else "top",
            fontsize=7,
            color=INK,
            zorder=6,
            path_effects=outline,
        )


SUMMARY_CHARS = 150  # summary characters per line on the 15-inch page (10.5 pt)
TITLE_CHARS = 90  # title characters per line (16 pt bold)
PLANE_MIN_IN = 2.8  # the mood plane's smallest height, in inches
BAR_IN = 0.3  # the height one share bar needs for its label, in inches


def _shares_in(summary: CallSummary) -> float:
    """Inches the share bars need: one line of labels per shown label, never squeezed."""
    return 0.5 + BAR_IN * len(summary.shares)


@dataclass(frozen=True)
class Call:
    """What the figure draws, as build_figure was given it."""

    timeline: Timeline
    summary: CallSummary
    audio: AudioView | None
    uncertain_below: float
    trend_alpha: float
    sides: Sequence[Side]


def build_figure(
    timeline: Timeline,
    summary: CallSummary,
    audio: AudioView | None,
    uncertain_below: float,
    trend_alpha: float,
    title: str,
    sides: Sequence[Side] = (),
) -> Figure:
    """``sides``: one per channel of a call analysed channel by channel, each drawn as its own
    band strip on the shared time axis and summed up in a line of the header."""
    call = Call(timeline, summary, audio, uncertain_below, trend_alpha, sides)
    has_speech = bool(timeline.predictions)
    rows = _rows(call)
    lines = summary.lines() + [side.summary.side_line(side.name) for side in sides]
    # Wrapped to the page, so a long side line or title is never cut at its right edge.
    lines = [part for line in lines for part in textwrap.wrap(line, SUMMARY_CHARS)]
    title_lines = textwrap.wrap(title, TITLE_CHARS) or [""]
    title_in = 0.35 * len(title_lines)
    header_in = 0.45 + title_in + 0.235 * len(lines)  # title and summary text, in inches
    plots_in = max(sum(h for _, h in rows) * 1.1, 5.2 if has_speech else 1.2)
    if has_speech:  # the right column: a bar per shown label (a long call has them all), the plane
        plots_in = max(plots_in, _shares_in(summary) + 0.6 + PLANE_MIN_IN)
    height = header_in + plots_in + 0.55
    fig = Figure(figsize=(15, height), dpi=100, facecolor="white")
    top = 1 - 0.15 / height
    fig.text(0.015, top, "\n".join(title_lines), fontsize=16, weight="bold", color=INK, va="top")
    below = 1 - (0.25 + title_in) / height
    fig.text(0.015, below, "\n".join(lines), fontsize=10.5, color=INK, va="top", linespacing=1.5)
    grid = fig.add_gridspec(
        1,
        2,
        width_ratios=(3.4, 1),
        left=0.06,
        right=0.985,
        top=1 - header_in / height,
        bottom=0.55 / height,
        wspace=0.12,
    )
    _left_column(fig, grid[0, 0], rows, call)
    if has_speech:
        _right_column(fig, grid[0, 1], plots_in, call)
    elif audio is None:
        fig.axes[0].text(
            0.5, 0.5, "no speech detected", transform=fig.axes[0].transAxes, ha="center",
            va="center", fontsize=12, color=FAINT,
        )
    return fig


def _rows(call: Call) -> list[tuple[str, float]]:
    """The plots of the left column, top to bottom, with their heights (inches)."""
    rows: list[tuple[str, float]] = (
        [("wave", 1.5), ("spec", 1.7)]
        if call.audio is not None
        else []
        if call.sides
        else [("strip", 0.6)]
    )
    rows += [(f"side{i}", 0.5) for i in range(len(call.sides))]
    if call.timeline.predictions:
        rows += [("mix", 1.5), ("conf", 1.2), ("affect", 1.3)]
    return rows


def _left_column(fig: Figure, cell: SubplotSpec, rows: list[tuple[str, float]], call: Call) -> None:
    """The call over time, every plot on one time axis."""
    duration, timeline, threshold = call.summary.duration_s, call.timeline, call.uncertain_below
    left = cell.subgridspec(len(rows), 1, height_ratios=[h for _, h in rows], hspace=0.3)
    first: Axes | None = None
    for i, (kind, _) in enumerate(rows):
        ax = fig.add_subplot(left[i, 0], sharex=first)
        first = first or ax
        _time_axis(ax, duration, show_labels=i == len(rows) - 1)
        if kind == "wave" and call.audio is not None:
            _waveform(ax, call.audio, timeline, threshold)
        elif kind == "spec" and call.audio is not None:
            _spectrogram(ax, call.audio, timeline, threshold)
        elif kind == "strip":
            _strip(ax, timeline, threshold)
        elif kind.startswith("side"):
            _side_strip(ax, call.sides[int(kind[4:])], threshold)
        elif kind == "mix":
            _mix(ax, timeline, call.trend_alpha, duration)
        elif kind == "conf":
            _confidence(ax, timeline, threshold)
        elif kind == "affect":
            _affect_course(ax, timeline, call.trend_alpha, duration)
        if i == len(rows) - 1:
            ax.set_xlabel("time (h:mm:ss)" if duration >= 3600 else "time (m:ss)", color=FAINT)


def _right_column(fig: Figure, cell: SubplotSpec, plots_in: float, call: Call) -> None:
    """The totals, in inches: the bars as tall as they need, the plane about square, the colour
    key between them when there is room."""
    shares_in = _shares_in(call.summary)
    plane_in = max(PLANE_MIN_IN, min(3.6, plots_in - shares_in - 0.6))
    gap_in = plots_in - plane_in - shares_in
    right = cell.subgridspec(3, 1, height_ratios=(shares_in, gap_in, plane_in), hspace=0)
    _shares(fig.add_subplot(right[0, 0]), call.summary)
    if gap_in > 1.0:
        _key(fig.add_subplot(right[1, 0]), call.timeline.labels)
    _plane(fig.add_subplot(right[2, 0]), call.timeline, call.uncertain_below)

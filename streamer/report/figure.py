"""The report picture (matplotlib): the call over time on the left, its totals on the right.

Left, sharing one time axis: waveform and spectrogram with coloured emotion bands (when the audio
is given; otherwise a band strip), a band strip per channel when the call was analysed channel by
channel, the smoothed emotion mix, confidence per utterance, valence and arousal. Right: share of
talk time per emotion, and every utterance on the valence/arousal plane with the labels' anchor
points. Colours and the "uncertain" rule come from :mod:`streamer.emotions`, as in the live view.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

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


def _time_axis(ax: Axes, duration_s: float, show_labels: bool) -> None:
    ax.set_xlim(0, max(duration_s, 1e-3))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _pos: clock(t)))
    ax.tick_params(labelbottom=show_labels)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


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
    for p in predictions:
        label = shown_label(p, uncertain_below)
        colour = colour_of(label)
        hatch = "///" if label == UNCERTAIN else None
        ax.axvspan(p.start_s, p.end_s, color=colour, alpha=alpha, lw=0, zorder=0)
        if ribbon is None:
            continue
        ax.axvspan(
            p.start_s,
            p.end_s,
            ymin=ribbon[0],
            ymax=ribbon[1],
            facecolor=colour,
            edgecolor="white",
            hatch=hatch,
            lw=0.5,
            zorder=3,
        )
        if names and (p.end_s - p.start_s) * px_per_s > 7.5 * len(label) + 6:
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
    ax.text(
        0.002,
        uncertain_below / 2,
        f"shown as uncertain (< {uncertain_below:.0%})",
        transform=ax.get_yaxis_transform(),
        va="center",
        fontsize=8,
        color=FAINT,
    )
    for p in timeline.predictions:
        colour = colour_of(p.label)
        ax.plot(
            [p.start_s, p.end_s],
            [p.confidence] * 2,
            color=colour,
            lw=3.5,
            zorder=2,
            solid_capstyle="butt",
        )
        ax.plot((p.start_s + p.end_s) / 2, p.confidence, "o", ms=4, color=colour, zorder=3)
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
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=2)


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


def _plane(ax: Axes, timeline: Timeline, uncertain_below: float) -> None:
    ax.axhline(0, color="#d5d9de", lw=0.8, zorder=0)
    ax.axvline(0, color="#d5d9de", lw=0.8, zorder=0)
    for label, (v, a) in CIRCUMPLEX.items():
        if label in timeline.labels:
            ax.text(v, a, label, fontsize=7, color=FAINT, ha="center", va="center", zorder=1)
    for x, y, word, ha, va in (
        (-1, 1, "tense", "left", "top"),
        (1, 1, "excited", "right", "top"),
        (-1, -1, "low", "left", "bottom"),
        (1, -1, "relaxed", "right", "bottom"),
    ):
        ax.text(x, y, word, fontsize=8, style="italic", color="#b0b5bc", ha=ha, va=va)
    kept = [(p, affect(p.labels, p.probabilities)) for p in timeline.predictions]
    kept = [(p, pt) for p, pt in kept if pt is not None]
    if kept:
        xs = [pt[0] for _, pt in kept]
        ys = [pt[1] for _, pt in kept]
        ax.plot(xs, ys, color="#c4c9cf", lw=0.8, zorder=2)
        sizes = [20 + 25 * (p.end_s - p.start_s) for p, _ in kept]
        colours = [colour_of(shown_label(p, uncertain_below)) for p, _ in kept]
        ax.scatter(xs, ys, s=sizes, c=colours, edgecolors="white", linewidths=0.6, zorder=3)
        ax.annotate(
            "start",
            (xs[0], ys[0]),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=7,
            color=INK,
        )
        ax.annotate(
            "end",
            (xs[-1], ys[-1]),
            xytext=(4, -9),
            textcoords="offset points",
            fontsize=7,
            color=INK,
        )
    ax.set_xlim(-1.08, 1.08)
    ax.set_ylim(-1.08, 1.08)
    ax.set_aspect("equal")
    ax.set_xlabel("valence (unpleasant → pleasant)", fontsize=8, color=FAINT)
    ax.set_ylabel("arousal (passive → active)", fontsize=8, color=FAINT)
    ax.tick_params(labelsize=7)
    ax.set_title("utterances on the mood plane", loc="left", fontsize=10, color=INK)


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
    duration = summary.duration_s
    has_speech = bool(timeline.predictions)
    rows: list[tuple[str, float]] = (
        [("wave", 1.5), ("spec", 1.7)] if audio is not None else [] if sides else [("strip", 0.6)]
    )
    rows += [(f"side{i}", 0.5) for i in range(len(sides))]
    if has_speech:
        rows += [("mix", 1.5), ("conf", 1.2), ("affect", 1.3)]
    lines = summary.lines() + [side.summary.side_line(side.name) for side in sides]
    header_in = 0.75 + 0.27 * len(lines)  # title and summary text, in inches
    plots_in = max(sum(h for _, h in rows) * 1.1, 5.2 if has_speech else 1.2)
    height = header_in + plots_in + 0.55
    fig = Figure(figsize=(15, height), dpi=100, facecolor="white")
    fig.text(0.015, 1 - 0.15 / height, title, fontsize=16, weight="bold", color=INK, va="top")
    fig.text(
        0.015,
        1 - 0.6 / height,
        "\n".join(lines),
        fontsize=10.5,
        color=INK,
        va="top",
        linespacing=1.5,
    )
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
    left = grid[0, 0].subgridspec(len(rows), 1, height_ratios=[h for _, h in rows], hspace=0.3)
    first: Axes | None = None
    for i, (kind, _) in enumerate(rows):
        ax = fig.add_subplot(left[i, 0], sharex=first)
        first = first or ax
        _time_axis(ax, duration, show_labels=i == len(rows) - 1)
        if kind == "wave" and audio is not None:
            _waveform(ax, audio, timeline, uncertain_below)
        elif kind == "spec" and audio is not None:
            _spectrogram(ax, audio, timeline, uncertain_below)
        elif kind == "strip":
            _strip(ax, timeline, uncertain_below)
        elif kind.startswith("side"):
            _side_strip(ax, sides[int(kind[4:])], uncertain_below)
        elif kind == "mix":
            _mix(ax, timeline, trend_alpha, duration)
        elif kind == "conf":
            _confidence(ax, timeline, uncertain_below)
        elif kind == "affect":
            _affect_course(ax, timeline, trend_alpha, duration)
        if i == len(rows) - 1:
            ax.set_xlabel("time (m:ss)", color=FAINT)
    if not has_speech:
        if audio is None:
            fig.axes[0].text(
                0.5,
                0.5,
                "no speech detected",
                transform=fig.axes[0].transAxes,
                ha="center",
                va="center",
                fontsize=12,
                color=FAINT,
            )
        return fig
    # Right column, in inches: the bars as tall as they need, the plane about square.
    plane_in = min(3.6, 0.6 * plots_in)
    shares_in = min(0.4 + 0.35 * len(summary.shares), plots_in - plane_in - 0.9)
    gap_in = plots_in - plane_in - shares_in
    right = grid[0, 1].subgridspec(3, 1, height_ratios=(shares_in, gap_in, plane_in), hspace=0)
    _shares(fig.add_subplot(right[0, 0]), summary)
    if gap_in > 1.0:
        _key(fig.add_subplot(right[1, 0]), timeline.labels)
    _plane(fig.add_subplot(right[2, 0]), timeline, uncertain_below)
    return fig

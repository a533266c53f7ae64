"""The live terminal view (Rich). It renders from pipeline snapshots on Rich's refresh thread,
so drawing never holds up the audio path."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from streamer.pipeline import Snapshot
from streamer.runner import latency_stats
from streamer.sources import SourceStats

EMOTION_COLOURS = {
    "neutral": "grey70",
    "calm": "cyan",
    "happy": "yellow",
    "sad": "blue",
    "angry": "red",
    "fearful": "magenta",
    "disgust": "green",
    "surprised": "bright_white",
    "boredom": "grey50",
}


def colour_of(label: str) -> str:
    return EMOTION_COLOURS.get(label, "white")


@dataclass(frozen=True)
class ViewInfo:
    source: str
    labels: tuple[str, ...]
    timeline_rows: int


def _bar(fraction: float, width: int) -> str:
    fraction = min(1.0, max(0.0, fraction))
    full = int(fraction * width)
    return "█" * full + "·" * (width - full)


def _level_meter(dbfs: float, width: int = 20) -> Text:
    shown = -60.0 if not math.isfinite(dbfs) else max(-60.0, min(0.0, dbfs))
    fraction = (shown + 60.0) / 60.0
    style = "red" if shown > -3 else "yellow" if shown > -12 else "green"
    text = Text(_bar(fraction, width), style=style)
    text.append(f" {shown:5.1f} dBFS", style="dim")
    return text


def render(snapshot: Snapshot, stats: SourceStats, info: ViewInfo) -> RenderableType:
    status = Table.grid(padding=(0, 2))
    status.add_row(
        Text("● SPEECH", style="bold green") if snapshot.in_speech else Text("○ silence", "dim"),
        _level_meter(snapshot.level_dbfs),
        Text(f"t={snapshot.position_s:7.1f} s"),
    )
    median, p95 = latency_stats(snapshot.latencies_ms)
    overrun_style = "bold red" if stats.overruns else "dim"
    status.add_row(
        Text(f"utterances {snapshot.utterances}"),
        Text(
            f"latency med {median:.0f} ms p95 {p95:.0f} ms" if median is not None else "latency -",
            style="dim",
        ),
        Text(f"overruns {stats.overruns} ({stats.dropped_s:.2f} s)", style=overrun_style),
    )

    current = Table.grid(padding=(0, 1))
    if snapshot.recent:
        last = snapshot.recent[-1]
        for label, p in last.ranked():
            current.add_row(
                Text(f"{label:<10}", style=colour_of(label)),
                Text(_bar(p, 24), style=colour_of(label)),
                Text(f"{p:5.1%}"),
            )
        heading = Text.assemble(
            "now: ", (last.label, f"bold {colour_of(last.label)}"), f"  ({last.confidence:.0%})"
        )
    else:
        heading = Text("now: waiting for speech…", style="dim")

    timeline = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    for column in ("start", "end", "emotion", "conf"):
        timeline.add_column(column, justify="right" if column != "emotion" else "left")
    for prediction in list(snapshot.recent)[-info.timeline_rows :][::-1]:
        timeline.add_row(
            f"{prediction.start_s:.1f}",
            f"{prediction.end_s:.1f}",
            Text(prediction.label, style=colour_of(prediction.label)),
            f"{prediction.confidence:.0%}",
        )

    return Group(
        Panel(status, title=f"ser-live · {info.source}", title_align="left"),
        Panel(current, title=heading, title_align="left"),
        Panel(timeline, title="timeline (newest first)", title_align="left"),
    )


def view_factory(
    snapshot: Callable[[], Snapshot], stats: SourceStats, info: ViewInfo
) -> Callable[[], RenderableType]:
    return lambda: render(snapshot(), stats, info)

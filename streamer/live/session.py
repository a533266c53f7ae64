"""One ser-live run: model, source, stream and outputs, run with or without the live view.

The model loads first (a bad model never opens the microphone); every output is closed and the
source released whatever ends the run.
"""

from __future__ import annotations

import argparse
import contextlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamer.cli_common import channel_mode, say
from streamer.live.options import log_mode, make_source, rows_to_stdout, settings_from_args

if TYPE_CHECKING:
    from streamer.engine.emotion_stream import EmotionStream
    from streamer.engine.run import RunSummary
    from streamer.settings import Settings
    from streamer.sinks.totals import Totals


def open_sinks(
    args: argparse.Namespace, labels: tuple[str, ...], uncertain_below: float, show_ui: bool
) -> list[Any]:
    """The run's outputs: the totals the view and summary read, then the logs asked for, then
    one line per utterance on stdout when nothing else shows them. Closes what it opened when
    one cannot be opened."""
    from streamer.sinks.console_lines import LineSink
    from streamer.sinks.csv_log import CsvSink
    from streamer.sinks.jsonl_log import JsonlSink
    from streamer.sinks.totals import Totals

    by_channel = channel_mode(args) != "mix"
    sinks: list[Any] = [Totals(uncertain_below)]
    shape = {"uncertain_below": uncertain_below, "mode": log_mode(args)}
    try:
        if args.csv is not None:
            sinks.append(CsvSink(args.csv, labels, by_channel, **shape))
        if args.jsonl is not None:
            sinks.append(JsonlSink(args.jsonl, labels, by_channel, **shape))
    except BaseException:
        close_all(sinks)
        raise
    if not show_ui and not rows_to_stdout(args):
        sinks.append(LineSink(uncertain_below))
    return sinks


def close_all(sinks: list[Any]) -> None:
    for sink in sinks:
        sink.close()


def execute(
    args: argparse.Namespace,
    stop: threading.Event,
    interactive: bool,
    writing: threading.Event | None = None,
) -> RunSummary:
    """The run ``args`` describe; ``interactive``: stdout is a terminal (the live view's);
    ``writing`` is set once the outputs are open (a repeated stop then lets them finish)."""
    from streamer.engine.build import load_model, stream_for
    from streamer.engine.run import run
    from streamer.features.runtime import tune_malloc

    tune_malloc()  # the process is ours: see streamer/features/runtime.py
    settings = settings_from_args(args)
    show_ui = not args.no_ui and not rows_to_stdout(args) and interactive
    classifier = load_model(settings)  # first: a bad model never opens the microphone
    source = make_source(args, settings, show_ui, stop)
    try:
        shows_partials = show_ui or args.jsonl is not None
        stream = stream_for(source, classifier, settings, shows_partials)
        sinks = open_sinks(args, classifier.labels, stream.uncertain_below, show_ui)
        if writing is not None:
            writing.set()
        try:
            flush = settings.segmenter.flush_on_stop
            if show_ui:
                summary = _run_with_ui(source, stream, sinks, stop, settings, args.duration)
            else:
                say(f"ser-live: {source.description}")
                summary = run(source, stream, sinks, stop, flush, args.duration)
            if args.screenshot is not None:
                _screenshot(args.screenshot, stream, source, settings, summary, sinks[0])
        finally:
            close_all(sinks)
    finally:
        source.close()
    return summary


def _screenshot(
    path: Path, stream: Any, source: Any, settings: Settings, summary: Any, totals: Totals
) -> None:
    from streamer.engine.run import LogLost

    try:
        save_last_frame(path, stream, source, settings, summary.wall_s, totals)
    except OSError as exc:  # e.g. the disk filled up: the run itself is not lost
        reason = exc.strerror or str(exc)
        raise LogLost(f"cannot write screenshot {path}: {reason}", summary) from None


def _on_clock(stream: Any) -> bool:
    """The stream's latency is measured on the clock (not in a fast replay's stream time)."""
    timebase = getattr(stream, "timebase", None)
    return timebase is None or not timebase.stream_latency


def _run_with_ui(
    source: Any,
    stream: EmotionStream,
    sinks: list[Any],
    stop: threading.Event,
    settings: Settings,
    duration_s: float | None,
) -> RunSummary:
    """The run under the live view, which draws one snapshot per stream (per channel).

    The view lives on the terminal's alternate screen, which Rich redraws whole: drawn inline,
    a terminal shrunk then widened again kept fragments of wider frames. When the run ends (or
    fails) the last frame is printed once on the normal screen, so it stays in view above the
    summary line."""
    from rich.live import Live

    from streamer.engine.run import run
    from streamer.live.view import ViewInfo, view_factory

    info = ViewInfo.from_settings(
        source.description,
        stream.labels,
        settings.ui,
        stream.uncertain_below,
        on_clock=_on_clock(stream),
    )
    view = view_factory(stream.snapshots, source.stats, info, totals=sinks[0])
    live = Live(
        get_renderable=view,
        refresh_per_second=settings.ui.refresh_hz,
        screen=True,
        redirect_stdout=False,
    )
    interrupted = False
    try:
        with live:
            flush = settings.segmenter.flush_on_stop
            return run(source, stream, sinks, stop, flush, duration_s)
    except KeyboardInterrupt:  # a second Ctrl-C: out at once, no last frame
        interrupted = True
        raise
    finally:
        if not interrupted:
            with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
                live.console.print(view())


def save_last_frame(
    path: Path,
    stream: EmotionStream,
    source: Any,
    settings: Settings,
    elapsed_s: float,
    totals: Totals | None = None,
) -> None:
    """The live view's final frame as an SVG (also after a --no-ui run, e.g. for docs/live.svg)."""
    import shutil

    from streamer.live.view import ViewInfo, render, save_screenshot

    info = ViewInfo.from_settings(
        source.description,
        stream.labels,
        settings.ui,
        stream.uncertain_below,
        on_clock=_on_clock(stream),
    )
    columns, rows = shutil.get_terminal_size((100, 40))
    frame = render(stream.snapshots(), source.stats, info, elapsed_s, totals)
    save_screenshot(frame, path, width=columns, height=rows)

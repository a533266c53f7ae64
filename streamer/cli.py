"""ser-live: watch emotion in speech from a microphone or a file, and log it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streamer.classifier import Classifier, ModelError
from streamer.pipeline import Pipeline
from streamer.runner import InputLost, RunSummary, run
from streamer.session import build_pipeline, open_file
from streamer.settings import Settings, SettingsError, load_settings
from streamer.sinks.console_lines import LineSink
from streamer.sinks.csv_log import CsvSink
from streamer.sinks.jsonl_log import JsonlSink
from streamer.sinks.totals import Totals
from streamer.sources import InputError, SourceError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every usage error
        self.exit(EXIT_USAGE, f"ser-live: error: {message} (see ser-live --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ser-live",
        description="Real-time speech emotion monitor: listens (or replays a file), cuts speech "
        "into utterances and shows each one's emotion on a rolling timeline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--input", type=Path, help="replay this audio file instead of the microphone"
    )
    parser.add_argument("--csv", type=Path, help="log one row per utterance to this CSV file")
    parser.add_argument(
        "--jsonl", type=Path, help="log one JSON object per utterance (the CSV's fields) here"
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="SVG",
        help="at the end, save the live view's last frame as an SVG picture "
        "(terminal width, or $COLUMNS, or 100 columns when not on a terminal)",
    )
    parser.add_argument(
        "--no-ui", action="store_true", help="no live view; print a line per utterance"
    )
    parser.add_argument("--device", help="input device: index or part of its name")
    parser.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    parser.add_argument("--model", type=Path, help="ONNX model (default: model.path in the config)")
    parser.add_argument(
        "--config", type=Path, help="a config file layered over the shipped defaults"
    )
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this much wall-clock time"
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--realtime", action="store_true", help="replay files at real-time pace")
    pace.add_argument("--fast", action="store_true", help="replay files as fast as possible")
    tuning = parser.add_argument_group("segmenting (override config.toml)")
    tuning.add_argument("--vad-aggressiveness", type=int, choices=(0, 1, 2, 3))
    tuning.add_argument("--hangover-ms", type=int)
    tuning.add_argument("--pre-roll-ms", type=int)
    tuning.add_argument("--min-utterance-s", type=float)
    tuning.add_argument("--max-utterance-s", type=float)
    tuning.add_argument(
        "--drop-pending",
        action="store_true",
        help="on stop, drop the utterance in progress instead of classifying it",
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    pace = "realtime" if args.realtime else "fast" if args.fast else None
    overrides: dict[str, dict[str, Any]] = {
        "model": {"path": str(args.model) if args.model else None},
        "vad": {"aggressiveness": args.vad_aggressiveness},
        "segmenter": {
            "hangover_ms": args.hangover_ms,
            "pre_roll_ms": args.pre_roll_ms,
            "min_utterance_s": args.min_utterance_s,
            "max_utterance_s": args.max_utterance_s,
            "flush_on_stop": False if args.drop_pending else None,
        },
        "replay": {"pace": pace},
    }
    return load_settings(args.config, overrides)


def print_devices() -> None:
    from streamer.sources.mic import list_input_devices

    devices = list_input_devices()
    if not devices:
        print("no audio input devices found (is a microphone connected, the audio server running?)")
        return
    print(f"{'idx':>4}  {'name':<40} {'ch':>3} {'rate':>7}  host api")
    for d in devices:
        mark = "*" if d.is_default else " "
        print(
            f"{d.index:>3}{mark}  {d.name[:40]:<40} {d.channels:>3} {d.default_rate:>7}"
            f"  {d.host_api}"
        )
    print("* = default input")


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM ask the run to stop; the loop then finishes cleanly within a block."""
    previous = {}

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def make_source(args: argparse.Namespace, settings: Settings, show_ui: bool) -> Any:
    if args.input is not None:
        pace = settings.replay.pace
        realtime = pace == "realtime" or (pace == "auto" and show_ui)
        return open_file(args.input, settings, realtime)
    from streamer.sources.mic import MicSource

    return MicSource(args.device, settings.audio)


def execute(args: argparse.Namespace) -> RunSummary:
    settings = settings_from_args(args)
    show_ui = not args.no_ui and sys.stdout.isatty()
    classifier = Classifier(settings.model.path)  # first: a bad model never opens the microphone
    source = make_source(args, settings, show_ui)
    pipeline = build_pipeline(settings, classifier, source)
    totals = Totals(settings.ui.uncertain_below)  # the live view's share over the whole run
    sinks: list[Any] = [totals]
    stop = threading.Event()
    try:  # a sink that cannot be opened still closes the source
        if args.csv is not None:
            sinks.append(CsvSink(args.csv, classifier.labels))
        if args.jsonl is not None:
            sinks.append(JsonlSink(args.jsonl, classifier.labels))
        if not show_ui:
            sinks.append(LineSink(settings.ui.uncertain_below))
        with stop_on_signals(stop):
            if show_ui:
                summary = _run_with_ui(source, pipeline, sinks, stop, settings, args, totals)
            else:
                print(f"ser-live: {source.description}", file=sys.stderr)
                summary = run(
                    source, pipeline, sinks, stop, settings.segmenter.flush_on_stop, args.duration
                )
        if args.screenshot is not None:
            save_last_frame(args.screenshot, pipeline, source, settings, summary.wall_s, totals)
    finally:
        source.close()
        for sink in sinks:
            sink.close()
    return summary


def _run_with_ui(
    source: Any,
    pipeline: Pipeline,
    sinks: list[Any],
    stop: threading.Event,
    settings: Settings,
    args: argparse.Namespace,
    totals: Totals,
) -> RunSummary:
    from rich.live import Live

    from streamer.ui import ViewInfo, view_factory

    info = ViewInfo.from_settings(source.description, pipeline.labels, settings.ui)
    view = view_factory(pipeline.snapshot, source.stats, info, totals=totals)
    with Live(
        get_renderable=view,
        refresh_per_second=settings.ui.refresh_hz,
        screen=False,
        redirect_stdout=False,
    ):
        return run(source, pipeline, sinks, stop, settings.segmenter.flush_on_stop, args.duration)


def save_last_frame(
    path: Path,
    pipeline: Pipeline,
    source: Any,
    settings: Settings,
    elapsed_s: float,
    totals: Totals | None = None,
) -> None:
    """The live view's final frame as an SVG (also after a --no-ui run, e.g. for the README)."""
    import shutil

    from streamer.ui import ViewInfo, render, save_screenshot

    info = ViewInfo.from_settings(source.description, pipeline.labels, settings.ui)
    columns, rows = shutil.get_terminal_size((100, 40))
    frame = render(pipeline.snapshot(), source.stats, info, elapsed_s, totals)
    save_screenshot(frame, path, width=columns, height=rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.list_devices:
            print_devices()
            return EXIT_OK
        if args.duration is not None and args.duration <= 0:
            raise SettingsError("--duration must be a positive number of seconds")
        summary = execute(args)
    except (SettingsError, InputError, ModelError) as exc:
        print(f"ser-live: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputLost as exc:  # rows so far are on disk; say what was done, then what went wrong
        print(exc.summary.describe(), file=sys.stderr)
        print(f"ser-live: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except SourceError as exc:
        print(f"ser-live: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"ser-live: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("ser-live: interrupted", file=sys.stderr)
        return 130
    print(summary.describe(), file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""ser-report: turn a finished call's timeline (and its audio) into a picture or an HTML page.

ser-report out/sample.csv --audio out/sample.wav -o out/report.html
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.cli_common import EXIT_FAILURE, EXIT_OK, CommandParser, report, say
from streamer.errors import SerError
from streamer.settings import load_settings

if TYPE_CHECKING:
    from streamer.settings import UiSettings

PROG = "ser-report"
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
HTML_SUFFIXES = (".html", ".htm")
NEEDS_MATPLOTLIB = (
    "ser-report: error: reports need matplotlib; install it with: pip install 'ser-live[plots]'"
)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=PROG,
        description="Draw a call's emotional course from the timeline ser-live logged: emotion "
        "bands over the waveform and spectrogram, talk time per emotion, confidence, mood and a "
        "short summary.",
    )
    parser.add_argument(
        "timeline", type=Path, help="the CSV (or JSONL) timeline ser-live or ser-batch wrote"
    )
    parser.add_argument(
        "--audio",
        type=Path,
        metavar="PATH",
        help="the call's audio, for the waveform and spectrogram (default: a band strip only)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="PATH",
        help="report file: .png (also .svg, .pdf) for a picture, .html for a self-contained page",
    )
    parser.add_argument(
        "--title", metavar="TEXT", help="heading (default: the timeline's file name)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="a TOML file layered over the shipped config.toml, for its [ui] settings",
    )
    parser.add_argument(
        "--uncertain-below",
        type=float,
        metavar="CONFIDENCE",
        help="show utterances below this confidence (0..1) as uncertain (default: the threshold "
        "the model chose on held-out corpora, as ser-live shows it; ui.uncertain_below when "
        "ui.uncertain_from_model is false or the model has none)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="the ONNX model that made the timeline, for its uncertain threshold (default: "
        "model.path in config.toml)",
    )
    return parser


def shown_threshold(args: argparse.Namespace) -> UiSettings:
    """The [ui] settings, with the uncertain threshold ser-live would have shown the timeline
    with: the flag's, else the model's own (ser-live's default), else ``ui.uncertain_below``."""
    overrides = {"ui": {"uncertain_below": args.uncertain_below}}
    model = getattr(args, "model", None)
    settings = load_settings(args.config, {**overrides, "model": {"path": model and str(model)}})
    ui = settings.ui
    if args.uncertain_below is not None or not ui.uncertain_from_model:
        return ui
    from streamer.emotions import uncertain_threshold
    from streamer.errors import ModelError
    from streamer.model.backend import read_metadata

    try:
        chosen = read_metadata(settings.model.path)[1].get("uncertain_below")
    except ModelError:
        if model is not None:  # asked for by name: say it cannot be used
            raise
        chosen = None  # the default model is missing: the setting it is
    shown = uncertain_threshold(
        ui.uncertain_below, True, float(chosen) if chosen is not None else None
    )
    return dataclasses.replace(ui, uncertain_below=shown)


def make_report(args: argparse.Namespace) -> str:
    """Write the report; returns a one-line description of what was written."""
    from streamer.report.timeline import ReportError, read_timeline  # numpy: not for --version

    suffix = args.output.suffix.lower()
    if suffix not in IMAGE_SUFFIXES + HTML_SUFFIXES:
        raise ReportError(f"{args.output}: unknown report type; use .png, .svg, .pdf or .html")
    ui = shown_threshold(args)
    timeline = read_timeline(args.timeline)
    for warning in timeline.warnings:
        print(f"ser-report: warning: {warning}", file=sys.stderr)

    from streamer.report.audio import read_audio  # after the cheap checks
    from streamer.report.figure import build_figure
    from streamer.report.summary import sides, summarise

    audio = read_audio(args.audio) if args.audio is not None else None
    duration = audio.duration_s if audio is not None else timeline.end_s
    if audio is not None and timeline.end_s > audio.duration_s + 0.5:
        print(
            f"ser-report: warning: the timeline runs to {timeline.end_s:.1f} s but "
            f"{args.audio} lasts {audio.duration_s:.1f} s; is it the same call?",
            file=sys.stderr,
        )
        duration = timeline.end_s
    summary = summarise(timeline.predictions, duration, ui.uncertain_below, audio is not None)
    audio_channels = audio.channels if audio is not None else None
    each = sides(timeline, duration, ui.uncertain_below, audio is not None, audio_channels)
    title = args.title or f"Call report · {args.timeline.name}"
    figure = build_figure(timeline, summary, audio, ui.uncertain_below, ui.trend_alpha, title, each)
    # No "Software" stamp: the picture carries nothing but the report.
    metadata = {"Software": None} if suffix == ".png" or suffix in HTML_SUFFIXES else None
    try:
        if suffix in HTML_SUFFIXES:
            from streamer.report.html import render_html

            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", metadata=metadata)
            sources = [str(args.timeline)] + ([str(args.audio)] if args.audio else [])
            page = render_html(
                title, sources, summary, timeline, buffer.getvalue(), ui.uncertain_below, each
            )
            # a file name need not be UTF-8: its odd bytes are shown escaped
            args.output.write_text(page, encoding="utf-8", errors="backslashreplace")
        else:
            figure.savefig(args.output, metadata=metadata)
    except OSError as exc:
        raise OSError(f"cannot write report {args.output}: {exc.strerror}") from None
    names = [side.name for side in each]
    per_side = f" on {', '.join(names[:-1])} and {names[-1]}" if names else ""
    return f"wrote {args.output} ({summary.utterances} utterances{per_side}, {duration:.1f} s)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from streamer.sources.native_stderr import NativeStderr

    try:
        import matplotlib  # noqa: F401  (optional dependency: the plots extra)
    except ImportError:
        say(NEEDS_MATPLOTLIB)
        return EXIT_FAILURE
    try:
        with NativeStderr():  # libmpg123 and friends print on fd 2 while the audio is read
            print(make_report(args))
    except (SerError, OSError) as exc:
        return report(PROG, exc)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

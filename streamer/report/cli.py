"""ser-report: turn a finished call's timeline (and its audio) into a picture or an HTML page.

ser-report out/sample.csv --audio out/sample.wav -o out/report.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamer.cli_common import EXIT_FAILURE, EXIT_OK, CommandParser, report, say
from streamer.errors import SerError
from streamer.report.make import ReportRequest, write_report

PROG = "ser-report"
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


def request_from(args: argparse.Namespace) -> ReportRequest:
    return ReportRequest(
        timeline=args.timeline,
        output=args.output,
        audio=args.audio,
        title=args.title,
        config=args.config,
        uncertain_below=args.uncertain_below,
        model=args.model,
    )


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
            print(write_report(request_from(args)))
    except (SerError, OSError) as exc:
        return report(PROG, exc)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

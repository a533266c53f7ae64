"""ser-live: watch emotion in speech from a microphone or a file, and log it."""

from __future__ import annotations

import argparse
import functools
import re
import sys
import threading
from pathlib import Path

# Only the standard library at import time: numpy, onnxruntime and the rest load inside main(),
# after the Ctrl-C handler is in place, so an early Ctrl-C never shows an import traceback.
from streamer.cli_common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandParser,
    HelpFormatter,
    add_channel_flags,
    exit_now,
    report,
    say,
    stop_on_signals,
)
from streamer.errors import ConfigError, OutputError, SerError
from streamer.live.options import (
    RAW_FORMAT_NAMES,
    check_duration,
    check_input_flags,
    check_log_flags,
    parse_start_time,
    reading_stdin,
    to_stdout,
)
from streamer.live.stopping import RepeatedStop
from streamer.sinks.output_paths import check_outputs

PROG = "ser-live"


def _input_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        type=Path,
        metavar="PATH",
        help="replay this audio file instead of the microphone; '-' reads a recording piped into "
        "stdin (WAV, OGG streamed; FLAC, MP3 read to the end first; raw PCM with --raw-rate)",
    )
    parser.add_argument(
        "--start-time",
        type=parse_start_time,
        metavar="ISO",
        help="when the recording began (ISO 8601, e.g. 2026-11-29T14:05:00+01:00; without a zone: "
        "local time); rows carry it plus stream time as wall_time (default: a file's modification "
        "time less its duration when replayed fast, the clock otherwise and for stdin)",
    )
    _raw_flags(parser)
    add_channel_flags(parser)
    _device_flags(parser)


def _raw_flags(parser: argparse.ArgumentParser) -> None:
    raw = parser.add_argument_group(
        "raw PCM input (--raw-rate makes --input FILE or - headerless PCM)"
    )
    raw.add_argument("--raw-rate", type=int, metavar="HZ", help="sample rate of the raw PCM, Hz")
    raw.add_argument(
        "--raw-format",
        choices=tuple(RAW_FORMAT_NAMES),
        help="sample format of the raw PCM (default with --raw-rate: s16le)",
    )
    raw.add_argument(
        "--raw-channels",
        type=int,
        metavar="N",
        help="interleaved channels of the raw PCM (default with --raw-rate: 1)",
    )


def _device_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        metavar="ID|NAME",
        help="input device: its index, or part of its name (see --list-devices; default: the "
        "system's default input)",
    )
    parser.add_argument(
        "--list-devices",
        action="store_true",
        help="list input devices (index, name, channels, default rate in Hz) and exit",
    )
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime",
        action="store_true",
        help="replay files at real-time pace (default with the live view: replay.pace = auto)",
    )
    pace.add_argument(
        "--fast",
        action="store_true",
        help="replay files as fast as possible (default with --no-ui: replay.pace = auto)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds of wall-clock time, up to a year (default: run until "
        "the input ends or Ctrl-C)",
    )


def _output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="PATH",
        help="log one row per utterance to this CSV file (columns: docs/csv.md); '-' writes the "
        "rows to stdout and nothing else goes there (no live view, no lines)",
    )
    parser.add_argument(
        "--jsonl",
        type=Path,
        metavar="PATH",
        help="log one JSON object per result (the CSV's fields and \"final\") to this file; '-' "
        "writes them to stdout and nothing else goes there (no live view, no lines)",
    )
    existing = parser.add_mutually_exclusive_group()
    existing.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a --csv/--jsonl file that already exists (without this or --append, an "
        "existing log with rows is refused)",
    )
    existing.add_argument(
        "--append",
        action="store_true",
        help="add rows to a --csv/--jsonl file that already exists; its columns must be the "
        "ones this run writes (same model, channel choice and version)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="SVG",
        help="at the end, save the live view's last frame as an SVG picture "
        "(terminal width, or $COLUMNS, or 100 columns when not on a terminal)",
    )
    parser.add_argument(
        "--no-ui",
        action="store_true",
        help="no live view; print one line per utterance on stdout (the summary goes to stderr)",
    )


def _model_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="ONNX model file (default: model.path = {model.path})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="a TOML file layered over the shipped config.toml (it may set only some keys)",
    )
    tuning = parser.add_argument_group("segmenting (override config.toml)")
    tuning.add_argument(
        "--vad-aggressiveness",
        type=int,
        choices=(0, 1, 2, 3),
        help="webrtcvad mode, 0 (lenient) .. 3 (strict) "
        "(default: vad.aggressiveness = {vad.aggressiveness})",
    )
    segmenting = (
        ("--hangover-ms", int, "MS", "hangover_ms", "silence that closes an utterance, in ms"),
        ("--pre-roll-ms", int, "MS", "pre_roll_ms", "audio kept before speech starts, in ms"),
        ("--min-utterance-s", float, "SECONDS", "min_utterance_s", "shorter speech is dropped"),
        ("--max-utterance-s", float, "SECONDS", "max_utterance_s", "longer speech is cut"),
    )
    for flag, kind, metavar, key, what in segmenting:
        unit = "" if metavar == "MS" else ", in seconds"
        tuning.add_argument(
            flag,
            type=kind,
            metavar=metavar,
            help=f"{what}{unit} (default: segmenter.{key} = {{segmenter.{key}}})",
        )
    tuning.add_argument(
        "--partial-every-s",
        type=float,
        metavar="SECONDS",
        help="during speech, a provisional result this often, in seconds, for the live view and "
        "JSON lines; 0 = off (default: segmenter.partial_every_s = {segmenter.partial_every_s})",
    )
    tuning.add_argument(
        "--drop-pending",
        action="store_true",
        help="on a stop (Ctrl-C, SIGTERM, --duration), drop the utterance in progress instead of "
        "classifying it (default: segmenter.flush_on_stop = true classifies it)",
    )


class ShippedDefaultsHelp(HelpFormatter):
    """Help whose "{segmenter.hangover_ms}"-style names show the shipped config.toml's values.
    They are read only when help is printed: loading settings while the parser is built would
    widen the start-up window in which a Ctrl-C meets no handler yet."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        if not text or "{" not in text:
            return text
        values = shipped_defaults()
        return re.sub(r"\{([a-z_]+\.[a-z_]+)\}", lambda m: values.get(m.group(1), "?"), text)


@functools.lru_cache(maxsize=1)
def shipped_defaults() -> dict[str, str]:
    """The shipped config.toml's values the help names ("segmenter.hangover_ms" -> "300");
    empty when it cannot be read (the help then says "?", and the run says why)."""
    from streamer.settings import load_settings

    try:
        settings = load_settings()
    except (SerError, OSError, ValueError):  # the help must never fail
        return {}
    seg = settings.segmenter
    values = {
        "model.path": settings.model.path.name,
        "vad.aggressiveness": settings.vad.aggressiveness,
        **{f"segmenter.{key}": getattr(seg, key) for key in SEGMENTER_KEYS},
    }
    return {key: str(value) for key, value in values.items()}


SEGMENTER_KEYS = ("hangover_ms", "pre_roll_ms", "min_utterance_s", "max_utterance_s")
SEGMENTER_KEYS += ("partial_every_s",)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=PROG,
        formatter_class=ShippedDefaultsHelp,
        description="Real-time speech emotion monitor: listens (or replays a file), cuts speech "
        "into utterances and shows each one's emotion on a rolling timeline.",
    )
    _input_flags(parser)
    _output_flags(parser)
    _model_flags(parser)
    return parser


def _logs(args: argparse.Namespace) -> dict[str, Path | None]:
    return {"--csv": args.csv, "--jsonl": args.jsonl}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_devices:
        return _list_devices()
    try:
        input_file = None if reading_stdin(args) else args.input
        logs = {flag: None if to_stdout(path) else path for flag, path in _logs(args).items()}
        check_outputs(input_file, logs, args.screenshot)
        check_log_flags(args)
    except (OutputError, ConfigError) as exc:
        return report(PROG, exc)
    stop = threading.Event()
    again = RepeatedStop(PROG)
    try:
        # From here on the first Ctrl-C (or SIGTERM/SIGHUP) is a stop request, even while the
        # libraries and the model load; a second one leaves at once while nothing is written,
        # and after the wrap-up once the run writes (streamer/live/stopping.py).
        with stop_on_signals(stop, again), _quiet_native_stderr():
            code = _run(args, stop, again.writing)
            again.done()
            if again.repeated.is_set() and code == EXIT_OK:  # asked twice: the exit code says so
                say(f"{PROG}: interrupted")
                return EXIT_INTERRUPTED
            return code
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted")
        return EXIT_INTERRUPTED


def _quiet_native_stderr():  # noqa: ANN202 (a context manager)
    """PortAudio, ALSA and libmpg123 print on fd 2; the command keeps that off the terminal."""
    from streamer.sources.native_stderr import NativeStderr

    return NativeStderr()


def print_devices() -> None:
    from streamer.sources.mic import REPLAY_HINT, list_input_devices

    devices = list_input_devices()
    if not devices:
        print(
            "no audio input devices found (is a microphone connected, the audio server running?)"
            f"; {REPLAY_HINT}"
        )
        return
    print(f"{'idx':>4}  {'name':<40} {'ch':>3} {'rate':>7}  host api")
    for d in devices:
        mark = "*" if d.is_default else " "
        print(
            f"{d.index:>3}{mark}  {d.name[:40]:<40} {d.channels:>3} {d.default_rate:>7}"
            f"  {d.host_api}"
        )
    print("* = default input")


def _list_devices() -> int:
    from streamer.sinks.console_lines import silence_closed_stream

    try:
        with _quiet_native_stderr():
            print_devices()
    except SerError as exc:
        return report(PROG, exc)
    except BrokenPipeError:  # `ser-live --list-devices | head -1`
        silence_closed_stream(sys.stdout)
    return EXIT_OK


def _run(args: argparse.Namespace, stop: threading.Event, writing: threading.Event) -> int:
    from streamer.engine.run import InputLost, LogLost
    from streamer.live.session import execute

    try:
        check_duration(args.duration)
        check_input_flags(args)
        summary = execute(args, stop, interactive=sys.stdout.isatty(), writing=writing)
    except (InputLost, LogLost) as exc:  # rows so far are on disk; what was done, then what failed
        say(exc.summary.describe())
        return report(PROG, exc)
    except SerError as exc:
        return report(PROG, exc)
    except OSError as exc:
        say(f"{PROG}: error: {exc}")
        return EXIT_FAILURE
    say(summary.describe())
    return EXIT_OK


def entry() -> None:
    """The ``ser-live`` command."""
    exit_now(main)


if __name__ == "__main__":
    entry()

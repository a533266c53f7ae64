"""ser-live: watch emotion in speech from a microphone or a file, and log it."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only the standard library at import time: numpy, onnxruntime and the rest load inside main(),
# after the Ctrl-C handler is in place, so an early Ctrl-C never shows an import traceback.
from streamer.outputs import OutputError, check_outputs
from streamer.version import PrintVersion

if TYPE_CHECKING:
    from streamer.classifier import Classifier
    from streamer.runner import RunSummary
    from streamer.settings import Settings
    from streamer.sinks.totals import Totals
    from streamer.sources.raw import RawFormat
    from streamer.stream import EmotionStream

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
JSONL_STDOUT = "-"  # --jsonl -: JSON lines on stdout, and nothing else there
# --raw-format names (streamer.sources.raw.RAW_FORMATS; listed here so --help loads no numpy)
RAW_FORMAT_NAMES = ("s16le", "s24le", "s32le", "f32le", "u8", "mulaw", "alaw")
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
MAX_DURATION_S = 366 * 24 * 3600  # a year: beyond it a typo, and beyond threading's timer range


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every usage error
        self.exit(EXIT_USAGE, f"ser-live: error: {message} (see ser-live --help)\n")


def parse_start_time(text: str) -> datetime:
    """--start-time: ISO 8601 with or without a zone (without: the machine's local time)."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-29T14:05:00+01:00 or "
            "2026-11-29 14:05:00)"
        ) from None
    return stamp if stamp.tzinfo is not None else stamp.astimezone()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ser-live",
        description="Real-time speech emotion monitor: listens (or replays a file), cuts speech "
        "into utterances and shows each one's emotion on a rolling timeline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action=PrintVersion)
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
    raw = parser.add_argument_group(
        "raw PCM input (--raw-rate makes --input FILE or - headerless PCM)"
    )
    raw.add_argument("--raw-rate", type=int, metavar="HZ", help="sample rate of the raw PCM")
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
    parser.add_argument("--csv", type=Path, help="log one row per utterance to this CSV file")
    parser.add_argument(
        "--jsonl",
        type=Path,
        help='log one JSON object per result (the CSV\'s fields and "final") here; "-" writes '
        "them to stdout and nothing else (no live view, no lines)",
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
    channels = parser.add_mutually_exclusive_group()
    channels.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="analyse only channel N (1 = left, 2 = right, ...) of a multi-channel file or device",
    )
    channels.add_argument(
        "--channels",
        choices=("mix", "each"),
        default="mix",
        help="mix: analyse the downmix; each: one stream per channel (its own segmenter, "
        "normaliser and timeline; logs get a channel column)",
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
        "--partial-every-s",
        type=float,
        metavar="SECONDS",
        help="during speech, a provisional result this often for the live view and JSON lines "
        "(0 = off; default: segmenter.partial_every_s)",
    )
    tuning.add_argument(
        "--drop-pending",
        action="store_true",
        help="on stop, drop the utterance in progress instead of classifying it",
    )
    return parser


def channel_mode(args: argparse.Namespace) -> str | int:
    """What the source hands on: "mix" (the downmix), a 1-based channel number, or "each"."""
    from streamer.settings import SettingsError

    if args.channel is not None:
        if args.channel < 1:
            raise SettingsError(f"--channel counts from 1 (1 = left); got {args.channel}")
        return int(args.channel)
    return str(args.channels)


def reading_stdin(args: argparse.Namespace) -> bool:
    return args.input is not None and str(args.input) == "-"  # session.STDIN


def raw_format(args: argparse.Namespace) -> RawFormat | None:
    """The raw PCM format the --raw-* flags describe (None without --raw-rate), checked."""
    from streamer.settings import SettingsError
    from streamer.sources.file import MAX_CHANNELS, MAX_RATE_HZ, MIN_RATE_HZ
    from streamer.sources.raw import RawFormat

    if args.raw_rate is None:
        given = (("--raw-format", args.raw_format), ("--raw-channels", args.raw_channels))
        for flag, value in given:
            if value is not None:
                raise SettingsError(
                    f"{flag} needs --raw-rate (raw PCM has no header to say its sample rate)"
                )
        return None
    if args.input is None:
        raise SettingsError(
            "--raw-rate describes a recording (--input FILE or --input -); "
            "the microphone says its own format"
        )
    if not MIN_RATE_HZ <= args.raw_rate <= MAX_RATE_HZ:
        raise SettingsError(
            f"--raw-rate must be {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz (got {args.raw_rate})"
        )
    channels = 1 if args.raw_channels is None else args.raw_channels
    if not 1 <= channels <= MAX_CHANNELS:
        raise SettingsError(f"--raw-channels must be 1..{MAX_CHANNELS} (got {channels})")
    return RawFormat(args.raw_rate, args.raw_format or "s16le", channels)


def check_input_flags(args: argparse.Namespace) -> RawFormat | None:
    """Flags that only make sense for a recording, refused for the microphone (one line);
    the raw PCM format they give, if any."""
    from streamer.settings import SettingsError

    raw = raw_format(args)
    if args.input is None and args.start_time is not None:
        raise SettingsError(
            "--start-time is for recordings (--input FILE or -); "
            "the microphone's rows carry the machine's clock"
        )
    return raw


def settings_from_args(args: argparse.Namespace) -> Settings:
    from streamer.settings import load_settings

    pace = "realtime" if args.realtime else "fast" if args.fast else None
    overrides: dict[str, dict[str, Any]] = {
        "model": {"path": str(args.model) if args.model else None},
        "vad": {"aggressiveness": args.vad_aggressiveness},
        "segmenter": {
            "hangover_ms": args.hangover_ms,
            "pre_roll_ms": args.pre_roll_ms,
            "min_utterance_s": args.min_utterance_s,
            "max_utterance_s": args.max_utterance_s,
            "partial_every_s": args.partial_every_s,
            "flush_on_stop": False if args.drop_pending else None,
        },
        "replay": {"pace": pace},
    }
    return load_settings(args.config, overrides)


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


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP (the terminal closed, SSH lost) ask the run to stop; the loop
    then finishes cleanly within a block. A stop asked before the run starts ends it at once.
    A signal the caller set to be ignored (``nohup``, a background job) stays ignored."""
    previous = {}

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: the user really wants out
            raise KeyboardInterrupt
        stop.set()

    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) == signal.SIG_IGN:  # `nohup ser-live …`: keep ignoring it
            continue
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def make_source(
    args: argparse.Namespace,
    settings: Settings,
    show_ui: bool,
    stop: threading.Event | None = None,
) -> Any:
    """The microphone, a file or stdin, handing on the channels asked for. A pipe is read as
    fast as it comes (a live process paces itself) unless --realtime (or replay.pace) asks
    for real time; ``stop`` lets a Ctrl-C end a wait for the pipe's first bytes."""
    raw = check_input_flags(args)
    channels = channel_mode(args)
    if args.input is not None:
        pace = settings.replay.pace
        from streamer.session import open_recording

        # A pipe is read as fast as it comes unless real time is asked for outright.
        realtime = pace == "realtime" or (pace == "auto" and show_ui and not reading_stdin(args))
        return open_recording(
            args.input, settings, realtime, channels, raw, args.start_time, stop=stop
        )
    from streamer.sources.mic import MicSource

    return MicSource(args.device, settings.audio, channels=channels)


def with_model_threshold(settings: Settings, classifier: Classifier) -> Settings:
    """The uncertain threshold the model chose on held-out corpora, unless the settings say no."""
    chosen = classifier.info.uncertain_below
    if not settings.ui.uncertain_from_model or chosen is None:
        return settings
    return dataclasses.replace(
        settings, ui=dataclasses.replace(settings.ui, uncertain_below=chosen)
    )


def check_rate(settings: Settings, model_rate: int) -> None:
    """The pipeline runs at ``audio.sample_rate_hz``; a model trained at another rate would get
    audio it never heard. Sources resample any input to this rate, so there is nothing to gain
    from a second rate: refuse rather than resample twice."""
    from streamer.settings import SettingsError

    rate = settings.audio.sample_rate_hz
    if rate != model_rate:
        raise SettingsError(
            f"audio.sample_rate_hz is {rate} but the model expects {model_rate} Hz audio; "
            f"set it to {model_rate} (every input is resampled to it)"
        )


def execute(args: argparse.Namespace, stop: threading.Event) -> RunSummary:
    from streamer.classifier import Classifier
    from streamer.runner import LogLost, run
    from streamer.session import build_stream
    from streamer.sinks.console_lines import LineSink
    from streamer.sinks.csv_log import CsvSink
    from streamer.sinks.jsonl_log import JsonlSink
    from streamer.sinks.totals import Totals

    settings = settings_from_args(args)
    json_to_stdout = args.jsonl is not None and str(args.jsonl) == JSONL_STDOUT
    show_ui = not args.no_ui and not json_to_stdout and sys.stdout.isatty()
    channels = channel_mode(args)
    classifier = Classifier(settings.model.path)  # first: a bad model never opens the microphone
    check_rate(settings, classifier.info.sample_rate)
    settings = with_model_threshold(settings, classifier)
    source = make_source(args, settings, show_ui, stop)
    # Provisional results cost a classification each: only when something shows them.
    partials = settings.segmenter.partial_every_s if show_ui or args.jsonl is not None else 0.0
    pipeline = build_stream(settings, classifier, source, channels, partials)
    totals = Totals(settings.ui.uncertain_below)  # the live view's share over the whole run
    sinks: list[Any] = [totals]
    by_channel = channels != "mix"
    try:  # a sink that cannot be opened still closes the source
        if args.csv is not None:
            sinks.append(CsvSink(args.csv, classifier.labels, by_channel))
        if args.jsonl is not None:
            sinks.append(JsonlSink(args.jsonl, classifier.labels, by_channel))
        if not show_ui and not json_to_stdout:
            sinks.append(LineSink(settings.ui.uncertain_below))
        if show_ui:
            summary = _run_with_ui(source, pipeline, sinks, stop, settings, args, totals)
        else:
            say(f"ser-live: {source.description}")
            summary = run(
                source, pipeline, sinks, stop, settings.segmenter.flush_on_stop, args.duration
            )
        if args.screenshot is not None:
            try:
                save_last_frame(
                    args.screenshot, pipeline, source, settings, summary.wall_s, totals
                )
            except OSError as exc:  # e.g. the disk filled up: the run itself is not lost
                reason = exc.strerror or str(exc)
                raise LogLost(
                    f"cannot write screenshot {args.screenshot}: {reason}", summary
                ) from None
    finally:
        source.close()
        for sink in sinks:
            sink.close()
    return summary


def _run_with_ui(
    source: Any,
    pipeline: EmotionStream,
    sinks: list[Any],
    stop: threading.Event,
    settings: Settings,
    args: argparse.Namespace,
    totals: Totals,
) -> RunSummary:
    """The run under the live view, which draws one snapshot per stream (per channel).

    The view lives on the terminal's alternate screen, which Rich redraws whole: drawn inline,
    a terminal shrunk then widened again kept fragments of wider frames. When the run ends (or
    fails) the last frame is printed once on the normal screen, so it stays in view above the
    summary line, as it did before."""
    from rich.live import Live

    from streamer.runner import run
    from streamer.ui import ViewInfo, view_factory

    info = ViewInfo.from_settings(source.description, pipeline.labels, settings.ui)
    view = view_factory(pipeline.snapshots, source.stats, info, totals=totals)
    live = Live(
        get_renderable=view,
        refresh_per_second=settings.ui.refresh_hz,
        screen=True,
        redirect_stdout=False,
    )
    interrupted = False
    try:
        with live:
            return run(
                source, pipeline, sinks, stop, settings.segmenter.flush_on_stop, args.duration
            )
    except KeyboardInterrupt:  # a second Ctrl-C: out at once, no last frame
        interrupted = True
        raise
    finally:
        if not interrupted:
            with contextlib.suppress(OSError, ValueError):  # the terminal may be gone (SIGHUP)
                live.console.print(view())


def save_last_frame(
    path: Path,
    pipeline: EmotionStream,
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
    frame = render(pipeline.snapshots(), source.stats, info, elapsed_s, totals)
    save_screenshot(frame, path, width=columns, height=rows)


def say(line: str) -> None:
    """A line on stderr that cannot fail the run: a closed terminal (SIGHUP) must not turn the
    summary of a finished run into a traceback."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def check_duration(duration: float | None) -> None:
    from streamer.settings import SettingsError

    if duration is None:
        return
    if not math.isfinite(duration) or not 0 < duration <= MAX_DURATION_S:
        raise SettingsError(
            f"--duration must be a positive number of seconds up to {MAX_DURATION_S} "
            f"(a year) (got {duration:g})"
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_devices:
        return _list_devices()
    try:
        input_file = None if reading_stdin(args) else args.input
        jsonl = None if str(args.jsonl) == JSONL_STDOUT else args.jsonl
        check_outputs(input_file, {"--csv": args.csv, "--jsonl": jsonl}, args.screenshot)
    except OutputError as exc:
        say(f"ser-live: error: {exc}")
        return EXIT_USAGE
    stop = threading.Event()
    try:
        # From here on the first Ctrl-C (or SIGTERM/SIGHUP) is a stop request, even while the
        # libraries and the model load; a second one leaves at once.
        with stop_on_signals(stop):
            return _run(args, stop)
    except KeyboardInterrupt:
        say("ser-live: interrupted")
        return 130


def _list_devices() -> int:
    from streamer.sources import SourceError

    try:
        print_devices()
    except SourceError as exc:
        say(f"ser-live: error: {exc}")
        return EXIT_FAILURE
    except BrokenPipeError:  # `ser-live --list-devices | head -1`
        from streamer.sinks.console_lines import silence_closed_stream

        silence_closed_stream(sys.stdout)
    return EXIT_OK


def _run(args: argparse.Namespace, stop: threading.Event) -> int:
    from streamer.classifier import ModelError
    from streamer.runner import InputLost, LogLost
    from streamer.settings import SettingsError
    from streamer.sources import InputError, SourceError

    try:
        check_duration(args.duration)
        check_input_flags(args)
        summary = execute(args, stop)
    except (SettingsError, InputError, ModelError) as exc:
        say(f"ser-live: error: {exc}")
        return EXIT_USAGE
    except (InputLost, LogLost) as exc:  # rows so far are on disk; what was done, then what failed
        say(exc.summary.describe())
        say(f"ser-live: error: {exc}")
        return EXIT_FAILURE
    except (SourceError, OSError) as exc:
        say(f"ser-live: error: {exc}")
        return EXIT_FAILURE
    say(summary.describe())
    return EXIT_OK


def entry() -> None:
    """The ``ser-live`` command: :func:`main`, then leave at once. Everything is written and
    closed by then; what remains is the interpreter tearing down numpy, scipy and onnxruntime
    module by module, which took 0.3 s after a stop request (over a second on a busy machine)
    and would break the promise of stopping within a second."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()

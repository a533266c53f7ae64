"""ser-live's flags turned into what the run needs: settings, the raw PCM format, the source.

Checked before anything is opened, each refusal one line (a :class:`~streamer.errors.
ConfigError`).
"""

from __future__ import annotations

import argparse
import math
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from streamer.cli_common import channel_mode
from streamer.errors import ConfigError

if TYPE_CHECKING:
    from streamer.settings import Settings
    from streamer.sources.raw import RawFormat

STDIN = "-"  # --input - (streamer.sources.recording.STDIN; here so --help loads no numpy)
STDOUT = "-"  # --csv - / --jsonl -: the rows on stdout, and nothing else there
# --raw-format names (streamer.sources.raw.RAW_FORMATS; listed here so --help loads no numpy)
RAW_FORMAT_NAMES = ("s16le", "s24le", "s32le", "f32le", "u8", "mulaw", "alaw")
MAX_DURATION_S = 366 * 24 * 3600  # a year: beyond it a typo, and beyond threading's timer range


def parse_start_time(text: str) -> datetime:
    """--start-time: ISO 8601 with or without a zone (without: the machine's local time)."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-11-29T14:05:00+01:00 or "
            "2026-11-29 14:05:00)"
        ) from None
    try:
        stamp = stamp if stamp.tzinfo is not None else stamp.astimezone()
        stamp + timedelta(seconds=MAX_DURATION_S)  # a year of rows must still fit the calendar
    except (OverflowError, ValueError, OSError):
        raise argparse.ArgumentTypeError(
            f"--start-time out of range: {text!r} (rows are stamped with it plus the stream "
            "time; give a time at least a year before 9999-12-31)"
        ) from None
    return stamp


def reading_stdin(args: argparse.Namespace) -> bool:
    return args.input is not None and str(args.input) == STDIN


def to_stdout(path: object) -> bool:
    return path is not None and str(path) == STDOUT


def rows_to_stdout(args: argparse.Namespace) -> bool:
    """``--csv -`` or ``--jsonl -``: the rows go to stdout, so nothing else may (no live view,
    no lines)."""
    return to_stdout(args.csv) or to_stdout(args.jsonl)


def log_mode(args: argparse.Namespace) -> Literal["new", "overwrite", "append"]:
    """What to do with a log file that exists: refuse it (the default), or what the flag says."""
    return "overwrite" if args.overwrite else "append" if args.append else "new"


def check_log_flags(args: argparse.Namespace) -> None:
    """``--csv -`` and ``--jsonl -`` together, or ``--overwrite``/``--append`` with no log file,
    are refused in one line; so is a log file that exists and has rows, unless a flag says what
    to do with it (checked again when it is opened, in case it appears meanwhile)."""
    from streamer.errors import OutputError
    from streamer.sinks.rowfile import holds_rows, refusal

    if to_stdout(args.csv) and to_stdout(args.jsonl):
        raise OutputError("--csv - and --jsonl - cannot both write to stdout; give one a file")
    files = {flag: path for flag, path in (("--csv", args.csv), ("--jsonl", args.jsonl))}
    files = {flag: path for flag, path in files.items() if path is not None and not to_stdout(path)}
    asked = "--overwrite" if args.overwrite else "--append" if args.append else None
    if asked and not files:
        raise ConfigError(f"{asked} is about the --csv/--jsonl log files, and none is given")
    if asked is None:
        for flag, path in files.items():
            if holds_rows(path):
                raise refusal(flag, path)


def raw_format(args: argparse.Namespace) -> RawFormat | None:
    """The raw PCM format the --raw-* flags describe (None without --raw-rate), checked."""
    from streamer.sources.file import MAX_CHANNELS, MAX_RATE_HZ, MIN_RATE_HZ
    from streamer.sources.raw import RawFormat

    if args.raw_rate is None:
        given = (("--raw-format", args.raw_format), ("--raw-channels", args.raw_channels))
        for flag, value in given:
            if value is not None:
                raise ConfigError(
                    f"{flag} needs --raw-rate (raw PCM has no header to say its sample rate)"
                )
        return None
    if args.input is None:
        raise ConfigError(
            "--raw-rate describes a recording (--input FILE or --input -); "
            "the microphone says its own format"
        )
    if not MIN_RATE_HZ <= args.raw_rate <= MAX_RATE_HZ:
        raise ConfigError(
            f"--raw-rate must be {MIN_RATE_HZ}..{MAX_RATE_HZ} Hz (got {args.raw_rate})"
        )
    channels = 1 if args.raw_channels is None else args.raw_channels
    if not 1 <= channels <= MAX_CHANNELS:
        raise ConfigError(f"--raw-channels must be 1..{MAX_CHANNELS} (got {channels})")
    return RawFormat(args.raw_rate, args.raw_format or "s16le", channels)


def check_input_flags(args: argparse.Namespace) -> RawFormat | None:
    """Flags that only make sense for a recording, refused for the microphone (one line);
    the raw PCM format they give, if any."""
    raw = raw_format(args)
    if args.input is None and args.start_time is not None:
        raise ConfigError(
            "--start-time is for recordings (--input FILE or -); "
            "the microphone's rows carry the machine's clock"
        )
    return raw


def check_duration(duration: float | None) -> None:
    if duration is None:
        return
    if not math.isfinite(duration) or not 0 < duration <= MAX_DURATION_S:
        raise ConfigError(
            f"--duration must be a positive number of seconds up to {MAX_DURATION_S} "
            f"(a year) (got {duration:g})"
        )


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


def make_source(
    args: argparse.Namespace, settings: Settings, show_ui: bool, stop: threading.Event
) -> Any:
    """The microphone, a file or stdin, with the channel choice checked against it. A pipe is
    read as fast as it comes (a live process paces itself) unless --realtime (or replay.pace)
    asks for real time; ``stop`` lets a Ctrl-C end a wait for the pipe's first bytes."""
    raw = check_input_flags(args)
    channels = channel_mode(args)
    if args.input is not None:
        from streamer.sources.recording import open_recording

        pace = settings.replay.pace
        realtime = pace == "realtime" or (pace == "auto" and show_ui and not reading_stdin(args))
        block_ms = settings.audio.block_ms
        return open_recording(
            args.input, block_ms, realtime, channels, raw, args.start_time, stop=stop
        )
    from streamer.sources.mic import MicSource

    return MicSource(args.device, settings.audio, channels=channels)

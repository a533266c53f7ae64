"""What every command (ser-live, ser-batch, ser-report, ser-train, ser-serve) shares: the
argument parser, exit codes, the one-line error message, signal handling and ``--version``.

Standard library only, so a command's ``--help``, ``--version`` and usage errors answer before
numpy or onnxruntime load, and an early Ctrl-C never shows an import traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from streamer.errors import SerError
from streamer.errors import reason as one_line
from streamer.package import version

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class HelpFormatter(argparse.HelpFormatter):
    """Shows a flag's default only when it has a real one (never "(default: None)"), and only
    when the help text does not already say it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default in (None, False, argparse.SUPPRESS)
            or "default" in text
            or not action.option_strings
            or action.nargs == 0
        ):
            return text
        return f"{text} (default: %(default)s)"


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line on stderr and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument("--version", action=PrintVersion)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class PrintVersion(argparse.Action):
    """``--version``: print ``<prog> <version>``, exit 0."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str = argparse.SUPPRESS,
        default: str = argparse.SUPPRESS,
        help: str = "show the version and exit",
    ) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        print(f"{parser.prog} {version()}", file=sys.stdout, flush=True)
        parser.exit(EXIT_OK)


def exit_code(exc: BaseException) -> int:
    """The exit code for an error: the project's own say theirs; any other OSError is 1."""
    if isinstance(exc, SerError):
        return exc.exit_code
    return EXIT_FAILURE


def say(line: str) -> None:
    """A line on stderr that cannot fail the run: a closed terminal (SIGHUP) must not turn the
    summary of a finished run into a traceback."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def report(prog: str, exc: BaseException) -> int:
    """``prog: error: <one line>`` on stderr; the exit code that goes with it."""
    say(f"{prog}: error: {one_line(exc)}")
    return exit_code(exc)


@contextmanager
def stop_on_signals(
    stop: threading.Event, again: Callable[[], None] | None = None
) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP (the terminal closed, SSH lost) ask the run to stop; the loop
    then finishes cleanly within a block. A stop asked before the run starts ends it at once; a
    second signal raises KeyboardInterrupt (the user really wants out), or calls ``again`` when
    given (a command that decides itself, e.g. to finish writing first). A signal the caller
    set to be ignored (``nohup``, a background job) stays ignored. Only in the main thread."""
    previous = {}

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            if again is None:
                raise KeyboardInterrupt
            again()
            return
        stop.set()

    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) == signal.SIG_IGN:
            continue
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_now(main: Callable[[], int]) -> NoReturn:
    """Run a command's ``main`` and leave at once. Everything is written and closed by then;
    what remains is the interpreter tearing down numpy, scipy and onnxruntime module by module,
    which took 0.3 s after a stop request (over a second on a busy machine) and would break the
    promise of stopping within a second."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def add_channel_flags(parser: argparse.ArgumentParser) -> None:
    """``--channel N`` / ``--channels mix|each``, the same for every command."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="analyse only channel N (1 = left, 2 = right, ...) of a multi-channel input",
    )
    group.add_argument(
        "--channels",
        choices=("mix", "each"),
        default="mix",
        help="mix: analyse the downmix; each: one stream per channel (its own segmenter, "
        "normaliser and timeline; logs get a channel column)",
    )


def channel_mode(args: argparse.Namespace) -> str | int:
    """The channel choice the flags give: "mix", "each", or a 1-based channel number."""
    from streamer.errors import ConfigError

    if args.channel is not None:
        if args.channel < 1:
            raise ConfigError(f"--channel counts from 1 (1 = left); got {args.channel}")
        return int(args.channel)
    return str(args.channels)

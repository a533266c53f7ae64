"""One error tree for the whole project: every message is one line meant for the user.

Library code raises these; the commands map them to exit codes in one place
(:func:`streamer.cli_common.exit_code`), so a caller of the library can tell a bad argument from
a missing device from a model that does not load, and a command never shows a traceback for
any of them.

- :class:`UsageError` (exit 2): what the user asked for cannot be done as asked — a bad flag or
  setting (:class:`ConfigError`), a file that is not audio (:class:`InputError`), a model that
  does not load (:class:`ModelError`), an output path that must not be written
  (:class:`OutputError`);
- :class:`SourceError` (exit 1): the input failed while it was being read (a device unplugged,
  a file damaged mid-stream);
- :class:`LogWriteError` (exit 1): an output could not be written (a full disk);
- :class:`StreamUsageError`: a Python API object used in a way it cannot be (fed after
  ``finish()``, from two threads at once).
"""

from __future__ import annotations


def reason(exc: BaseException) -> str:
    """An exception as one line for a message: its first non-empty line, whitespace collapsed
    (libraries' messages can run over many lines), or its type's name when it says nothing."""
    for line in str(exc).splitlines():
        if line.strip():
            return " ".join(line.split())
    return type(exc).__name__


class SerError(Exception):
    """The root: anything ser-live refuses or fails on, with a one-line message."""

    exit_code = 1


class UsageError(SerError):
    """What was asked for cannot be done as asked (exit 2)."""

    exit_code = 2


class ConfigError(UsageError, ValueError):
    """A setting or flag is missing, unknown or out of range."""


class SourceError(SerError, RuntimeError):
    """The input failed while being read (exit 1)."""


class InputError(UsageError, SourceError):
    """Input given by the user that cannot be used: not audio, an unknown device, a missing file.
    Also a :class:`SourceError`, so whoever reads a source catches both."""


class ModelError(UsageError, RuntimeError):
    """The model file is missing, unreadable or does not fit this version of ser-live."""


class OutputError(UsageError, ValueError):
    """An output path that cannot or must not be written (the input itself, an existing log)."""


class LogWriteError(SerError, OSError):
    """A log file could not be written (disk full, file-size limit, I/O error); exit 1."""


class StreamUsageError(SerError, ValueError, RuntimeError):
    """A stream object used in a way it cannot be (e.g. fed after ``finish()``)."""

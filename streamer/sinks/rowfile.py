"""A log file that only ever holds whole rows, even when the disk fills up mid-row; and the same
interface onto standard output (``--csv -``, ``--jsonl -``).

Rows are written unbuffered, straight to the file, and flushed by the kernel as they come. When a
write fails part-way (disk full, file-size limit, I/O error) the file is cut back to the end of
the last whole row and :class:`LogWriteError` names the file: a reader never meets a torn row.

An existing log is never destroyed silently: a file is opened in one of three modes,

- ``"new"``: refused with an :class:`OutputError` when a file with rows is already there (an
  empty file, a FIFO or a device such as ``/dev/null`` holds nothing to lose);
- ``"overwrite"``: replaced (``--overwrite``; ser-batch's own temporary files);
- ``"append"``: rows are added after the ones there (``--append``); the caller checks that the
  existing header fits with :func:`existing_head`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import Literal, TextIO

from streamer.errors import LogWriteError, OutputError

__all__ = ["LogWriteError", "RowFile", "StdoutRows", "existing_head", "holds_rows"]

Mode = Literal["new", "overwrite", "append"]
STDOUT = "-"  # --csv - / --jsonl -: the rows on standard output, and nothing else there
_FLAGS = {
    "new": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
    "overwrite": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "append": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
}


def holds_rows(path: Path) -> bool:
    """True when ``path`` is a regular file with something in it (what "new" refuses)."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0


def refusal(flag: str, path: Path) -> OutputError:
    """The one-line refusal of an existing log, naming the two ways on."""
    return OutputError(
        f"{flag} {path} already exists; add --overwrite to replace it or --append to add rows "
        "to it"
    )


def existing_head(path: Path, limit: int = 1 << 16) -> tuple[str, bool] | None:
    """(first line without its newline, whether the file ends with a newline) of an existing log
    with something in it; None for a missing or empty one. Not UTF-8 text: OutputError."""
    if not holds_rows(path):
        return None
    try:
        with open(path, "rb") as handle:
            first = handle.readline(limit)
            handle.seek(-1, os.SEEK_END)
            whole = handle.read(1) == b"\n"
    except OSError as exc:
        raise OutputError(f"cannot read {path} to append to it: {exc.strerror or exc}") from None
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OutputError(f"{path} is not a log this program wrote (not UTF-8 text)") from None
    return text.rstrip("\r\n"), whole


class RowFile:
    def __init__(self, path: Path, kind: str, mode: Mode = "overwrite", flag: str = "") -> None:
        """``kind``: "CSV" or "JSONL", for messages; ``flag``: the option that named the file
        (``--csv``), for the refusal of an existing one."""
        self.path = Path(path)
        self.kind = kind
        try:
            self._fd = self._open(mode, flag)
            # Appending: the rows already there are whole (the caller checked the last newline).
            self._size = os.fstat(self._fd).st_size if mode == "append" else 0
        except OSError as exc:
            raise LogWriteError(self._message(exc)) from None

    def _open(self, mode: Mode, flag: str) -> int:
        try:
            return os.open(self.path, _FLAGS[mode], 0o666)
        except FileExistsError:
            if holds_rows(self.path):  # checked again here: it may have appeared meanwhile
                raise refusal(flag or self.kind, self.path) from None
            # empty, or not a regular file (a FIFO, /dev/null): nothing there to lose
            return os.open(self.path, os.O_WRONLY | os.O_TRUNC)

    def _message(self, exc: OSError) -> str:
        return f"cannot write {self.kind} {self.path}: {exc.strerror or exc}"

    @property
    def appending_to_rows(self) -> bool:
        """True when rows are added after others (no header needed)."""
        return self._size > 0

    def append(self, text: str) -> None:
        """Write ``text`` (one or more whole lines) completely, or leave the file as it was."""
        data = text.encode("utf-8")
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except BaseException as exc:  # also a second Ctrl-C between two partial writes
            if 0 < written < len(data):  # roll back; truncating frees space, so it succeeds
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, self._size)
                    os.lseek(self._fd, self._size, os.SEEK_SET)
            if isinstance(exc, OSError):
                raise LogWriteError(self._message(exc)) from None
            raise
        self._size += len(data)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class StdoutRows:
    """Rows onto standard output, one flushed write per row, so a reader sees whole rows as they
    come. When the reader goes (``ser-live --csv - | head -3``) the rows stop quietly; the run
    and the other logs go on."""

    appending_to_rows = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.reader_gone = False

    def append(self, text: str) -> None:
        from streamer.sinks.console_lines import silence_closed_stream

        if self.reader_gone:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self.reader_gone = True
            silence_closed_stream(self.stream)

    def close(self) -> None:
        pass


def open_rows(path: Path | str, kind: str, mode: Mode, flag: str = "") -> RowFile | StdoutRows:
    """Where a log's rows go: standard output for ``-``, else a :class:`RowFile`."""
    if str(path) == STDOUT:
        return StdoutRows()
    return RowFile(Path(path), kind, mode, flag)

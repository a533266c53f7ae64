"""A log file that only ever holds whole rows, even when the disk fills up mid-row.

Rows are written unbuffered, straight to the file, and flushed by the kernel as they come. When a
write fails part-way (disk full, file-size limit, I/O error) the file is cut back to the end of
the last whole row and :class:`LogWriteError` names the file: a reader never meets a torn row.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from streamer.errors import LogWriteError

__all__ = ["LogWriteError", "RowFile"]




class RowFile:
    def __init__(self, path: Path, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind  # "CSV" or "JSONL", for messages
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        except OSError as exc:
            raise LogWriteError(self._message(exc)) from None
        self._size = 0  # bytes of whole rows on disk

    def _message(self, exc: OSError) -> str:
        return f"cannot write {self.kind} {self.path}: {exc.strerror or exc}"

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

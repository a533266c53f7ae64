"""Names in an output folder: how a path is shown, and output names that never collide.

A file name is bytes on Linux and need not be UTF-8; Python keeps such bytes as surrogates,
which no UTF-8 writer (calls.csv, SQLite, an HTML page) accepts. :func:`shown` gives the text
to write instead: undecodable bytes as ``\\xff`` and control characters (a newline in a name
would break a one-line message or a CSV row) as ``\\x0a``. The file itself is always reached
through its real bytes.

Each recording writes ``NAME.csv`` and maybe ``NAME.jsonl``, ``NAME.report.png``,
``NAME.report.html`` under the output folder, next to the folder's own files (calls.csv, its
database, index.html). :class:`Namespace` hands out names so that no output of one recording is
another's, or the folder's own, or a folder another needs, compared without case (an output
folder on a case-insensitive file system would merge ``A.wav`` and ``a.wav``). A name that is
taken gets ``~2``, ``~3`` ... before its extension: ``x.wav`` -> ``x~2.wav``.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath

OUTPUT_SUFFIXES = (".csv", ".jsonl", ".report.png", ".report.html")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(path: object) -> str:
    """``path`` as text any writer takes: undecodable bytes and control characters escaped."""
    text = os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _fold(path: PurePosixPath | str) -> str:
    return str(path).casefold()


class Namespace:
    """The files and folders an output folder's names take; :meth:`claim` a name for a
    recording, :meth:`reserve` the folder's own files first."""

    def __init__(self) -> None:
        self._files: set[str] = set()
        self._folders: set[str] = set()

    def reserve(self, *files: str) -> None:
        self._files.update(_fold(f) for f in files)

    def _outputs(self, name: PurePosixPath) -> list[str]:
        return [_fold(f"{name}{suffix}") for suffix in OUTPUT_SUFFIXES]

    def free(self, name: PurePosixPath) -> bool:
        outputs = self._outputs(name)
        parents = [_fold(p) for p in name.parents if str(p) != "."]
        return (
            not any(o in self._files or o in self._folders for o in outputs)
            and not any(p in self._files for p in parents)
        )

    def take(self, name: PurePosixPath) -> None:
        self._files.update(self._outputs(name))
        self._folders.update(_fold(p) for p in name.parents if str(p) != ".")

    def claim(self, name: PurePosixPath) -> PurePosixPath:
        """``name`` if it is free, else the first free ``stem~N.suffix`` (a folder on its way
        that is another name's file is renamed the same way); taken from then on."""
        parts = list(name.parts)
        for i in range(len(parts) - 1):  # folders, outermost first
            number = 1
            while _fold(PurePosixPath(*parts[: i + 1])) in self._files:
                number += 1
                parts[i] = _numbered(name.parts[i], number)
        candidate, number = PurePosixPath(*parts), 1
        while not self.free(candidate):
            number += 1
            candidate = candidate.with_name(_numbered(parts[-1], number))
        self.take(candidate)
        return candidate


def _numbered(name: str, number: int) -> str:
    """``x.wav`` -> ``x~2.wav``."""
    path = PurePosixPath(name)
    return f"{path.stem}~{number}{path.suffix}"

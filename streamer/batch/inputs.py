"""Which recordings a run covers: files, folders searched recursively, and ``@list.txt`` files.

Each recording gets a name under the output folder: its path relative to the folder it was found
in (a file given directly, or listed, is named by its file name); :mod:`streamer.batch.names`
makes names that would collide unique.

Nothing found can stop or hang a run: a FIFO, a device or a socket with an audio extension (which
a decoder would wait on forever), or a broken link, is refused up front with its reason (it
gets an ``error`` row; the rest is processed). Symbolic links to folders are followed; one that
leads back into a folder already searched (a loop, or a second way to the same folder) is skipped
with a line saying so. A list file may carry a byte-order mark (UTF-8 or UTF-16) and names in
any encoding.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from streamer.batch.names import shown
from streamer.errors import InputError

# Extensions of the formats libsndfile reads without being told the layout (not RAW).
AUDIO_SUFFIXES = frozenset(
    [
        ".wav",
        ".wave",
        ".flac",
        ".ogg",
        ".oga",
        ".opus",
        ".mp3",
        ".aif",
        ".aiff",
        ".aifc",
        ".au",
        ".snd",
        ".caf",
        ".w64",
        ".rf64",
    ]
)


class InputsError(InputError):
    """The inputs cannot be used as given (bad usage): the message is one line for the user."""


@dataclass(frozen=True)
class Recording:
    path: Path  # absolute, so that workers elsewhere find it on a shared path
    name: PurePosixPath  # where its outputs go, relative to the output folder
    problem: str = ""  # why it is refused without being opened ("" = a file to process)

    @property
    def key(self) -> str:
        """How the run state names it (the absolute path; :func:`shown` for text)."""
        return str(self.path)


@dataclass
class Inputs:
    recordings: list[Recording] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # folders left out, one line each


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for a message."""
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def problem_with(path: Path) -> str:
    """Why ``path`` cannot be opened as a recording without trying ("" when it can be tried:
    a regular file, or a path that is not there, whose row will say so). Never opens it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "a broken symbolic link" if os.path.islink(path) else ""
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISREG(mode):
        return ""
    return f"not a regular file ({kind_of(mode)})"


def _subfolders(root: str, dirs: list[str], seen: set[tuple[int, int]], skipped: list[str]):
    """Prune ``dirs`` (in place, for os.walk) to folders not searched yet."""
    kept = []
    for name in sorted(dirs):
        path = os.path.join(root, name)
        try:
            info = os.stat(path)
        except OSError as exc:
            skipped.append(f"skipped {shown(path)}: {exc.strerror or exc}")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            target = os.path.realpath(path)
            skipped.append(
                f"skipped {shown(path)}: a link to {shown(target)}, which is searched already "
                "(a loop, or a second way to the same folder)"
            )
            continue
        seen.add(key)
        kept.append(name)
    dirs[:] = kept


def _in_folder(folder: Path, skipped: list[str]) -> Iterable[Recording]:
    info = os.stat(folder)
    seen = {(info.st_dev, info.st_ino)}
    found = []

    def unreadable(exc: OSError) -> None:
        skipped.append(f"skipped {shown(exc.filename)}: {exc.strerror or exc}")

    for root, dirs, files in os.walk(folder, followlinks=True, onerror=unreadable):
        _subfolders(root, dirs, seen, skipped)
        for name in files:
            path = Path(root) / name
            if path.suffix.lower() in AUDIO_SUFFIXES:
                found.append(path)
    for path in sorted(found):
        name = PurePosixPath(path.relative_to(folder).as_posix())
        yield Recording(path.absolute(), name, problem_with(path))


def _expand(arg: Path, skipped: list[str]) -> Iterable[Recording]:
    if arg.is_dir():
        yield from _in_folder(arg, skipped)
    else:  # a file, or a path that is not there: its row will say why it could not be read
        yield Recording(arg.absolute(), PurePosixPath(arg.name), problem_with(arg))


def _list_lines(list_file: Path) -> list[str]:
    """The lines of a list file as paths: a byte-order mark is not part of the first one;
    bytes that are not UTF-8 are kept as the file system's own (surrogate escapes)."""
    try:
        data = list_file.read_bytes()
    except OSError as exc:
        raise InputsError(f"cannot read list file {list_file}: {exc.strerror}") from None
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding).splitlines()
            except UnicodeDecodeError:
                raise InputsError(f"cannot read list file {list_file}: bad UTF-16") from None
    data = data.removeprefix(codecs.BOM_UTF8)
    return [os.fsdecode(line) for line in data.splitlines()]


def _listed(list_file: Path, skipped: list[str]) -> Iterable[Recording]:
    for line in _list_lines(list_file):
        entry = line.strip()
        if entry and not entry.startswith("#"):
            path = Path(entry)
            yield from _expand(path if path.is_absolute() else list_file.parent / path, skipped)


def find_inputs(args: Iterable[str]) -> Inputs:
    """The recordings named by the command-line inputs, in order, each once, and the folders
    left out (with why)."""
    inputs = Inputs()
    found: dict[Path, Recording] = {}
    for arg in args:
        if arg.startswith("@"):
            recordings = _listed(Path(arg[1:]), inputs.skipped)
        else:
            recordings = _expand(Path(arg), inputs.skipped)
        for recording in recordings:
            found.setdefault(recording.path, recording)
    inputs.recordings = list(found.values())
    return inputs


def discover(args: Iterable[str]) -> list[Recording]:
    """The recordings named by the command-line inputs (see :func:`find_inputs`)."""
    return find_inputs(args).recordings

"""Which recordings a run covers: files, folders searched recursively, and ``@list.txt`` files.

Each recording gets a name under the output folder: its path relative to the folder it was found
in (a file given directly, or listed, is named by its file name). Two recordings may not share a
name, or one would overwrite the other's outputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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

    @property
    def key(self) -> str:
        """How calls.csv names it."""
        return str(self.path)


def _in_folder(folder: Path) -> Iterable[Recording]:
    files = (p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    for path in sorted(files):
        yield Recording(path.absolute(), PurePosixPath(path.relative_to(folder).as_posix()))


def _expand(arg: Path) -> Iterable[Recording]:
    if arg.is_dir():
        yield from _in_folder(arg)
    else:  # a file, or a path that is not there: its row will say why it could not be read
        yield Recording(arg.absolute(), PurePosixPath(arg.name))


def _listed(list_file: Path) -> Iterable[Recording]:
    try:
        text = list_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputsError(f"cannot read list file {list_file}: {reason}") from None
    for line in text.splitlines():
        entry = line.strip()
        if entry and not entry.startswith("#"):
            path = Path(entry)
            yield from _expand(path if path.is_absolute() else list_file.parent / path)


def discover(args: Iterable[str]) -> list[Recording]:
    """The recordings named by the command-line inputs, in order, each once."""
    found: dict[Path, Recording] = {}
    names: dict[PurePosixPath, Path] = {}
    for arg in args:
        recordings = _listed(Path(arg[1:])) if arg.startswith("@") else _expand(Path(arg))
        for recording in recordings:
            if recording.path in found:
                continue
            clash = names.get(recording.name)
            if clash is not None:
                raise InputsError(
                    f"{clash} and {recording.path} would both write {recording.name}.csv; "
                    "give their common parent folder instead"
                )
            found[recording.path] = recording
            names[recording.name] = recording.path
    return list(found.values())

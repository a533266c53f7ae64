"""Checks on the files a run will write, made before anything is opened for writing.

A log that would overwrite the recording being replayed, two logs on one file, or a screenshot
path that is a folder are refused up front (exit 2), so no data is destroyed and no run is wasted.
Paths are compared as the files they name (symbolic links followed, hard links recognised), not
as strings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from streamer.errors import OutputError

__all__ = ["OutputError", "check_outputs", "check_writable_path"]




def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts
    except OSError:  # one of them does not exist yet
        return False


def check_writable_path(flag: str, path: Path) -> None:
    """Refuse a path that is a directory or lies in a folder that does not exist."""
    if path.is_dir():
        raise OutputError(f"{flag} {path} is a directory; give a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{flag} {path}: folder {parent} does not exist")


def check_outputs(
    input_path: Path | None, logs: Mapping[str, Path | None], screenshot: Path | None = None
) -> None:
    """Refuse output paths that are the input, each other, a directory, or in a missing folder.

    ``logs`` maps a flag (``--csv``) to its path or None.
    """
    outputs = [(flag, Path(path)) for flag, path in logs.items() if path is not None]
    if screenshot is not None:
        outputs.append(("--screenshot", Path(screenshot)))
    for flag, path in outputs:
        if input_path is not None and _same_file(path, Path(input_path)):
            raise OutputError(
                f"{flag} {path} is the input file; refusing to overwrite the recording"
            )
    for i, (flag, path) in enumerate(outputs):
        for other_flag, other in outputs[i + 1 :]:
            if _same_file(path, other):
                raise OutputError(f"{flag} and {other_flag} name the same file ({path})")
    for flag, path in outputs:
        check_writable_path(flag, path)

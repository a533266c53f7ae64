"""Which name each input's outputs get in an output folder, kept across runs.

An input keeps the name it was given first (the run state remembers it), so reruns in any order
write to the same files. A new input whose natural name is taken (by another input, of this run
or an earlier one, or by the folder's own files) gets a unique one (:mod:`streamer.batch.names`).
One exception: an input found at a new path whose earlier path is gone and whose size and
modification time are the earlier one's is the same recording, moved (``mv``, ``rsync -a``): its
results and name move with it instead of being done again under ``x~2.wav``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import PurePosixPath

from streamer.batch.inputs import Recording
from streamer.batch.job import FileState
from streamer.batch.names import Namespace, shown
from streamer.batch.state import RunState, key_of


def _moved_here(state: RunState, holder: bytes, recording: Recording) -> bool:
    if os.path.lexists(os.fsdecode(holder)):
        return False
    previous = state.previous(holder)
    now = FileState.of(recording.path)
    return previous is not None and (previous.size_bytes, previous.mtime_ns) == (
        now.size,
        now.mtime_ns,
    )


def assign_names(
    recordings: list[Recording], state: RunState, reserved: tuple[str, ...]
) -> tuple[list[Recording], list[str], int]:
    """The recordings under the names they keep in this folder, one line for each that was
    renamed or recognised as moved, and how many were moved."""
    known = state.names()
    holders = {str(name).casefold(): key for key, name in known.items()}
    ours = {key_of(r.key) for r in recordings}
    space = Namespace()
    space.reserve(*reserved)
    for name in known.values():
        space.take(name)
    named, new, lines, moved = [], {}, [], 0
    for recording in recordings:
        key = key_of(recording.key)
        name = known.get(key) or new.get(key)
        holder = holders.get(str(recording.name).casefold())
        if name is None and holder not in (None, *ours) and _moved_here(state, holder, recording):
            state.move(holder, key)
            moved += 1
            name = known[key] = known.pop(holder)
            lines.append(f"{shown(recording.path)} is {shown(os.fsdecode(holder))}, moved: kept")
        if name is None:
            name = new[key] = space.claim(recording.name)
            if name != recording.name:
                lines.append(
                    f"the outputs of {shown(recording.path)} are named {shown(name)}.* "
                    f"({shown(recording.name)} is taken by another input or by the folder's "
                    "own files)"
                )
        named.append(dataclasses.replace(recording, name=PurePosixPath(name)))
    if new:
        state.keep_names(new)
    return named, lines, moved

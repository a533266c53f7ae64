"""The tables a run keeps up to date from its state: calls.csv, and index.html when reports are
made. Written whole after the first result, then at most every few seconds (rewriting a long
table after every recording would cost more than the recordings), and at the end; every result
is in the database the moment it is recorded, so a crash in between loses nothing: the next run
writes the tables again.
"""

from __future__ import annotations

import time
from pathlib import Path

from streamer.batch.calls import write_calls
from streamer.batch.index_page import INDEX_HTML, write_index
from streamer.batch.state import RunState
from streamer.errors import LogWriteError

MIN_INTERVAL_S = 2.0


class Tables:
    def __init__(self, state: RunState, folder: Path, labels: tuple[str, ...], reports: bool):
        self.state = state
        self.folder = folder
        self.labels = labels
        self.reports = reports
        self._interval_s = 0.0  # the first result is written at once
        self._last = time.monotonic()
        self._dirty = False

    def changed(self) -> None:
        """A result was recorded: write the tables if the last write was long enough ago."""
        self._dirty = True
        if time.monotonic() - self._last >= self._interval_s:
            self.write(quiet=True)

    def write(self, quiet: bool = False) -> None:
        """Write the tables now. LogWriteError unless ``quiet``: a write during the run that
        fails (a full disk) is left to the last one, which says it in one line."""
        started, failed = time.monotonic(), False
        try:
            write_calls(self.state, self.folder, self.labels)
            if self.reports or (self.folder / INDEX_HTML).exists():
                write_index(self.state, self.folder)
        except LogWriteError:
            if not quiet:
                raise
            failed = True
        finally:
            self._last = time.monotonic()
            self._interval_s = max(MIN_INTERVAL_S, 10 * (self._last - started))
            self._dirty = failed

    @property
    def dirty(self) -> bool:
        """Results are recorded that the tables on disk do not show yet."""
        return self._dirty

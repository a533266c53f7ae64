"""CSV timeline: one row per finished utterance, on disk as soon as it is classified, never torn
(provisional results go to JSON lines only). ``-`` writes the rows to standard output."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from streamer.errors import OutputError
from streamer.results import Prediction
from streamer.sinks.rowfile import STDOUT, Mode, existing_head, open_rows
from streamer.sinks.rows import field_names, row_values
from streamer.sinks.spreadsheet import safe_cells


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_cells(values))  # no cell a spreadsheet would run
    return buffer.getvalue()


def check_append(path: Path, header: str, flag: str) -> None:
    """Appending to ``path`` keeps it one table: its header must be ours (the same model's
    labels, the same channel choice, this version's columns), its last row whole."""
    head = existing_head(path)
    if head is None:
        return
    first, whole = head
    if first != header:
        raise OutputError(
            f"{flag} {path} has other columns than this run writes (another model, channel "
            "choice or version); --append needs the same columns: use --overwrite or another file"
        )
    if not whole:
        raise OutputError(f"{flag} {path} ends in an incomplete row; refusing to append to it")


class CsvSink:
    def __init__(
        self,
        path: Path | str,
        labels: tuple[str, ...],
        channel: bool = False,
        *,
        uncertain_below: float,
        mode: Mode = "overwrite",
        flag: str = "--csv",
    ) -> None:
        """``uncertain_below``: the run's threshold, for the ``shown`` column; ``mode``: what
        to do with an existing file (:mod:`streamer.sinks.rowfile`)."""
        self.path = Path(path)
        self._channel = channel
        self._uncertain_below = uncertain_below
        header = _csv_line(field_names(labels, channel))
        if mode == "append" and str(path) != STDOUT:
            check_append(self.path, header.rstrip("\r\n"), flag)
        self._file = open_rows(path, "CSV", mode, flag)
        self.rows = 0
        if self._file.appending_to_rows:
            return
        try:
            self._file.append(header)
        except OSError:
            self._file.close()
            raise

    def write(self, prediction: Prediction) -> None:
        if not prediction.final:  # the CSV is the timeline of finished utterances
            return
        # Written whole and unbuffered: if the run dies, every row already classified is on disk.
        values = row_values(prediction, self._uncertain_below, self._channel)
        self._file.append(_csv_line(values))
        self.rows += 1

    def close(self) -> None:
        self._file.close()

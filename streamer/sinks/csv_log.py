"""CSV timeline: one row per finished utterance, on disk as soon as it is classified, never torn
(provisional results go to JSON lines only)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from streamer.results import Prediction
from streamer.sinks.rowfile import RowFile
from streamer.sinks.rows import field_names, row_values
from streamer.sinks.spreadsheet import safe_cells


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_cells(values))  # no cell a spreadsheet would run
    return buffer.getvalue()


class CsvSink:
    def __init__(self, path: Path | str, labels: tuple[str, ...], channel: bool = False) -> None:
        self.path = Path(path)
        self._channel = channel
        self._file = RowFile(self.path, "CSV")
        self.rows = 0
        try:
            self._file.append(_csv_line(field_names(labels, channel)))
        except OSError:
            self._file.close()
            raise

    def write(self, prediction: Prediction) -> None:
        if not prediction.final:  # the CSV is the timeline of finished utterances
            return
        # Written whole and unbuffered: if the run dies, every row already classified is on disk.
        self._file.append(_csv_line(row_values(prediction, self._channel)))
        self.rows += 1

    def close(self) -> None:
        self._file.close()

"""CSV timeline: one row per utterance, flushed as soon as it is classified."""

from __future__ import annotations

import csv
from pathlib import Path

from streamer.results import Prediction
from streamer.sinks.rows import field_names, row_values


class CsvSink:
    def __init__(self, path: Path | str, labels: tuple[str, ...]) -> None:
        self.path = Path(path)
        try:
            self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (held for the run)
        except OSError as exc:
            raise OSError(f"cannot write CSV {self.path}: {exc.strerror}") from None
        self._writer = csv.writer(self._handle)
        self._writer.writerow(field_names(labels))
        self._handle.flush()
        self.rows = 0

    def write(self, prediction: Prediction) -> None:
        self._writer.writerow(row_values(prediction))
        # Flushed per row: if the run dies, every row already classified is complete on disk.
        self._handle.flush()
        self.rows += 1

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

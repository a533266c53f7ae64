"""JSON Lines timeline: one object per utterance with the CSV's fields, written whole."""

from __future__ import annotations

import json
from pathlib import Path

from streamer.results import Prediction
from streamer.sinks.rowfile import RowFile
from streamer.sinks.rows import field_names, row_values


class JsonlSink:
    def __init__(self, path: Path | str, labels: tuple[str, ...]) -> None:
        self.path = Path(path)
        self._fields = field_names(labels)
        self._file = RowFile(self.path, "JSONL")
        self.rows = 0

    def write(self, prediction: Prediction) -> None:
        record = dict(zip(self._fields, row_values(prediction), strict=True))
        # As for the CSV: a crash or a full disk leaves only whole lines behind.
        self._file.append(json.dumps(record, ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._file.close()

"""JSON Lines timeline: one object per utterance with the CSV's fields, flushed as it is written."""

from __future__ import annotations

import json
from pathlib import Path

from streamer.results import Prediction
from streamer.sinks.rows import field_names, row_values


class JsonlSink:
    def __init__(self, path: Path | str, labels: tuple[str, ...]) -> None:
        self.path = Path(path)
        self._fields = field_names(labels)
        try:
            self._handle = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (held for the run)
        except OSError as exc:
            raise OSError(f"cannot write JSONL {self.path}: {exc.strerror}") from None
        self.rows = 0

    def write(self, prediction: Prediction) -> None:
        record = dict(zip(self._fields, row_values(prediction), strict=True))
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()  # as for the CSV: a crash loses nothing already classified
        self.rows += 1

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()

"""JSON Lines timeline: one object per result with the CSV's fields plus ``final``, written whole.

Finals (``"final": true``) are the CSV's rows; with partial results on, provisional results over
the utterance in progress come as ``"final": false`` objects before its final one. ``path`` "-"
writes to standard output (then nothing else may go there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from streamer.results import Prediction
from streamer.sinks.rowfile import RowFile
from streamer.sinks.rows import field_names, row_values

STDOUT = "-"


class JsonlSink:
    def __init__(
        self,
        path: Path | str,
        labels: tuple[str, ...],
        channel: bool = False,
    ) -> None:
        self.path = Path(path)
        self._fields = field_names(labels, channel) + ["final"]
        self._channel = channel
        self._stdout: TextIO | None = sys.stdout if str(path) == STDOUT else None
        self._file = None if self._stdout is not None else RowFile(self.path, "JSONL")
        self.rows = 0
        self.reader_gone = False

    def write(self, prediction: Prediction) -> None:
        values = row_values(prediction, self._channel) + [prediction.final]
        record = dict(zip(self._fields, values, strict=True))
        line = json.dumps(record, ensure_ascii=False) + "\n"
        if self._file is not None:
            # As for the CSV: a crash or a full disk leaves only whole lines behind.
            self._file.append(line)
        else:
            self._to_stdout(line)
        self.rows += 1

    def _to_stdout(self, line: str) -> None:
        from streamer.sinks.console_lines import silence_closed_stream

        if self.reader_gone or self._stdout is None:
            return
        try:  # one write per line, flushed: a reader sees whole objects as they come
            self._stdout.write(line)
            self._stdout.flush()
        except BrokenPipeError:  # `ser-live --jsonl - | head -3`: the run and its logs go on
            self.reader_gone = True
            silence_closed_stream(self._stdout)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

"""JSON Lines timeline: one object per result with the CSV's fields plus ``final``, written whole.

Finals (``"final": true``) are the CSV's rows; with partial results on, provisional results over
the utterance in progress come as ``"final": false`` objects before its final one. ``path`` "-"
writes to standard output (then nothing else may go there).
"""

from __future__ import annotations

import json
from pathlib import Path

from streamer.errors import OutputError
from streamer.results import Prediction
from streamer.sinks.rowfile import STDOUT, Mode, existing_head, open_rows
from streamer.sinks.rows import field_names, row_values


def check_append(path: Path, fields: list[str], flag: str) -> None:
    """Appending to ``path`` keeps its objects alike: its first one must have our fields (the
    same model's labels, the same channel choice, this version's columns), its last line whole."""
    head = existing_head(path)
    if head is None:
        return
    first, whole = head
    try:
        keys = list(json.loads(first))
    except (ValueError, TypeError, RecursionError):
        keys = None
    if keys != fields:
        raise OutputError(
            f"{flag} {path} holds other fields than this run writes (another model, channel "
            "choice or version); --append needs the same fields: use --overwrite or another file"
        )
    if not whole:
        raise OutputError(f"{flag} {path} ends in an incomplete line; refusing to append to it")


class JsonlSink:
    def __init__(
        self,
        path: Path | str,
        labels: tuple[str, ...],
        channel: bool = False,
        *,
        uncertain_below: float,
        mode: Mode = "overwrite",
        flag: str = "--jsonl",
    ) -> None:
        self.path = Path(path)
        self._fields = field_names(labels, channel) + ["final"]
        self._channel = channel
        self._uncertain_below = uncertain_below
        if mode == "append" and str(path) != STDOUT:
            check_append(self.path, self._fields, flag)
        self._file = open_rows(path, "JSONL", mode, flag)
        self.rows = 0

    @property
    def reader_gone(self) -> bool:
        return bool(getattr(self._file, "reader_gone", False))

    def write(self, prediction: Prediction) -> None:
        values = row_values(prediction, self._uncertain_below, self._channel) + [prediction.final]
        record = dict(zip(self._fields, values, strict=True))
        # One whole line per write, as for the CSV: a crash or a full disk leaves only whole
        # lines behind, and a reader of stdout sees whole objects as they come.
        self._file.append(json.dumps(record, ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._file.close()

"""DIR/calls.csv: one row per recording, appended as each one finishes (a crash keeps every row
written), compacted to one row per recording at the end of a run that added any."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from streamer.batch.job import ERROR, OK, CallResult, FileState

BASE_FIELDS = ["path", "status", "error", "duration_s", "speech_s", "utterances"]
TAIL_FIELDS = [
    "valence",
    "arousal",
    "peak_arousal_start_s",
    "peak_arousal_label",
    "peak_arousal",
    "processing_s",
    "output",
    "size_bytes",
    "mtime_ns",
    "fingerprint",
]


def field_names(labels: tuple[str, ...]) -> list[str]:
    return BASE_FIELDS + [f"share_{label}" for label in labels] + TAIL_FIELDS


def _num(value: float | None, digits: int) -> str | float:
    return "" if value is None else round(value, digits)


def row_of(result: CallResult, labels: tuple[str, ...]) -> list[object]:
    ok = result.status == OK
    shares = [_num(result.shares.get(label, 0.0), 4) if ok else "" for label in labels]
    return (
        [
            result.path,
            result.status,
            result.error,
            _num(result.duration_s, 3) if ok else "",
            _num(result.speech_s, 3) if ok else "",
            result.utterances if ok else "",
        ]
        + shares
        + [
            _num(result.valence, 4),
            _num(result.arousal, 4),
            _num(result.peak_start_s, 3),
            result.peak_label,
            _num(result.peak_arousal, 4),
            round(result.processing_s, 3),
            result.output,
            result.state.size,
            result.state.mtime_ns,
            result.fingerprint,
        ]
    )


class CallsLog:
    """calls.csv for a model with ``labels``. Rows from a file with other columns (another
    model's labels) are not kept: those recordings are done again."""

    def __init__(self, path: Path, labels: tuple[str, ...]) -> None:
        self.path = path
        self.labels = labels
        self.fields = field_names(labels)
        self.rows: dict[str, list[str]] = {}  # by path; the last row of a path wins
        self.appended = 0
        self._load()

    def _load(self) -> None:
        try:
            with open(self.path, newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader, None)
                if header != self.fields:
                    return
                for row in reader:
                    if len(row) == len(self.fields):  # a row cut short by a crash is not done
                        self.rows[row[0]] = row
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise OSError(f"cannot read {self.path}: {exc}") from None

    def previous(self, path: str) -> dict[str, str] | None:
        row = self.rows.get(path)
        return None if row is None else dict(zip(self.fields, row, strict=True))

    def is_current(
        self, path: str, state: FileState, fingerprint: str, outputs: list[Path], retry_failed: bool
    ) -> bool:
        """Done before from the same input bytes (size, mtime) with the same model and settings,
        and its outputs are there; a failure stays done unless ``retry_failed``."""
        row = self.previous(path)
        if row is None or row["fingerprint"] != fingerprint:
            return False
        if (row["size_bytes"], row["mtime_ns"]) != (str(state.size), str(state.mtime_ns)):
            return False
        if row["status"] == ERROR:
            return not retry_failed
        return row["status"] == OK and all(p.is_file() for p in outputs)

    def append(self, result: CallResult) -> None:
        row = [str(v) for v in row_of(result, self.labels)]
        if self.appended == 0:  # start from whole rows (a crash may have cut the last one)
            self._rewrite()
        with open(self.path, "a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(row)
        self.rows[result.path] = row
        self.appended += 1

    def compact(self, order: list[str]) -> None:
        """One row per recording: this run's in input order, then any others kept from before."""
        if self.appended:
            ranked = {path: i for i, path in enumerate(order)}
            self._rewrite(sorted(self.rows, key=lambda p: ranked.get(p, len(ranked))))

    def _rewrite(self, paths: list[str] | None = None) -> None:
        """Write the kept rows whole under a temporary name, then rename it over calls.csv."""
        temp = self.path.with_name(f".{self.path.name}.part")
        with open(temp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.fields)
            for path in paths if paths is not None else list(self.rows):
                writer.writerow(self.rows[path])
        os.replace(temp, self.path)

    def statuses(self, paths: list[str]) -> dict[str, str]:
        return {p: self.rows[p][1] for p in paths if p in self.rows}

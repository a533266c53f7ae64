"""Reads the timeline ser-live logged (CSV, or JSON Lines with the same fields) back into
predictions. Probability columns are found by their ``p_`` prefix, so columns added later are
ignored, and the label and confidence are recomputed from the probabilities."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from streamer.results import Prediction

REQUIRED = ("start_s", "end_s")
PROBABILITY_PREFIX = "p_"


class ReportError(ValueError):
    """Input the report cannot use; the message is one line for the user."""


@dataclass(frozen=True)
class Timeline:
    path: Path
    labels: tuple[str, ...]
    predictions: tuple[Prediction, ...]  # sorted by start time

    @property
    def end_s(self) -> float:
        return max((p.end_s for p in self.predictions), default=0.0)


def read_timeline(path: Path) -> Timeline:
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: file not found")
    if path.is_dir():
        raise ReportError(f"{path}: is a directory, not a timeline file")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
            columns, rows = _jsonl_rows(handle, path) if jsonl else _csv_rows(handle, path)
            # An empty JSONL file names no columns: a timeline without utterances.
            labels = _labels(columns, path) if columns is not None else ()
            predictions = [_prediction(row, labels, path, line) for line, row in rows]
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a text file (is it really a ser-live timeline?)") from None
    except csv.Error as exc:
        raise ReportError(f"{path}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror})") from None
    predictions.sort(key=lambda p: p.start_s)
    return Timeline(path, labels, tuple(predictions))


Rows = Iterator[tuple[int, dict[str, object]]]


def _csv_rows(handle, path: Path) -> tuple[list[str] | None, Rows]:  # type: ignore[no-untyped-def]
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header:
        raise ReportError(f"{path}: empty file (no header row)")
    header = [name.strip() for name in header]

    def rows() -> Rows:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ReportError(
                    f"{path} line {reader.line_num}: {len(values)} fields, the header has "
                    f"{len(header)}"
                )
            yield reader.line_num, dict(zip(header, values, strict=True))

    return header, rows()


def _jsonl_rows(handle, path: Path) -> tuple[list[str] | None, Rows]:  # type: ignore[no-untyped-def]
    records: list[tuple[int, dict[str, object]]] = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ReportError(f"{path} line {number}: not a JSON object")
        records.append((number, record))
    return (list(records[0][1]) if records else None), iter(records)


def _labels(columns: list[str], path: Path) -> tuple[str, ...]:
    for name in REQUIRED:
        if name not in columns:
            raise ReportError(f"{path}: not a ser-live timeline (no {name} column)")
    prefix = PROBABILITY_PREFIX
    labels = tuple(c[len(prefix) :] for c in columns if c.startswith(prefix))
    if len(labels) < 2:
        raise ReportError(f"{path}: not a ser-live timeline (needs p_<label> probability columns)")
    return labels


def _number(row: dict[str, object], key: str, path: Path, line: int) -> float:
    value = row.get(key)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ReportError(f"{path} line {line}: {key} is not a number ({value!r})") from None
    if not math.isfinite(number):
        raise ReportError(f"{path} line {line}: {key} is not a finite number ({value!r})")
    return number


def _prediction(
    row: dict[str, object], labels: tuple[str, ...], path: Path, line: int
) -> Prediction:
    start, end = (_number(row, key, path, line) for key in REQUIRED)
    if start < 0 or end < start:
        raise ReportError(f"{path} line {line}: times must satisfy 0 <= start_s <= end_s")
    probabilities = tuple(_number(row, f"p_{label}", path, line) for label in labels)
    if any(not -1e-6 <= p <= 1 + 1e-6 for p in probabilities):
        raise ReportError(f"{path} line {line}: probabilities must lie in 0..1")
    latency = row.get("latency_ms")  # optional: absent in hand-made timelines
    if latency is not None and latency != "":
        latency_ms = _number(row, "latency_ms", path, line)
    else:
        latency_ms = math.nan
    return Prediction(
        start_s=start,
        end_s=end,
        wall_time=str(row.get("wall_time", "")),
        labels=labels,
        probabilities=probabilities,
        latency_ms=latency_ms,
    )

"""Reads the timeline ser-live logged (CSV, or JSON Lines with the same fields) back into
predictions. Probability columns are found by their ``p_`` prefix, so columns added later are
ignored, and the label and confidence are recomputed from the probabilities.

A timeline is read as it is found in the wild: a CSV re-saved with a UTF-8 byte-order mark
(spreadsheets do that) reads as any other, and a last line torn by a crash or a full disk is left
out with a warning rather than costing the whole report. Label names come from an untrusted file
and end up in HTML and on the terminal, so only plain names are accepted.

A run that analysed chosen channels logs a ``channel`` column (1 = left); the report then tells
the sides of a call apart. JSON lines with ``"final": false`` are provisional results over an
utterance still being spoken; its final line follows, so they are skipped and counted nowhere."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from streamer.errors import InputError
from streamer.results import PLAIN_LABEL, Prediction

REQUIRED = ("start_s", "end_s")
# Stream times beyond this (about 116 days) are not a recording's: a report drawn over 1e100 s
# spun for minutes, so they are refused like any other impossible value.
MAX_TIME_S = 1e7
PROBABILITY_PREFIX = "p_"


class ReportError(InputError):
    """Input the report cannot use; the message is one line for the user."""


@dataclass(frozen=True)
class Timeline:
    path: Path
    labels: tuple[str, ...]
    predictions: tuple[Prediction, ...]  # sorted by start time
    warnings: tuple[str, ...] = ()  # one line each, for stderr

    @property
    def end_s(self) -> float:
        return max((p.end_s for p in self.predictions), default=0.0)

    @property
    def channels(self) -> tuple[int, ...]:
        """The channels the rows name, in order; () for a log of one stream (no channel column,
        or a downmix)."""
        return tuple(sorted({p.channel for p in self.predictions if p.channel is not None}))

    def of_channel(self, channel: int) -> tuple[Prediction, ...]:
        return tuple(p for p in self.predictions if p.channel == channel)


def channel_name(channel: int, channels: tuple[int, ...], audio_channels: int | None = None) -> str:
    """The names of the sides of a stereo call ("left", "right"), else "channel N"."""
    stereo = channels == (1, 2) and audio_channels in (None, 2)
    return ("left", "right")[channel - 1] if stereo else f"channel {channel}"


def read_timeline(path: Path) -> Timeline:
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path}: file not found")
    if path.is_dir():
        raise ReportError(f"{path}: is a directory, not a timeline file")
    warnings: list[str] = []
    try:
        # utf-8-sig: a byte-order mark, if any, is not part of the first column's name.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
        jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
        lines = text.splitlines(keepends=True)
        columns, rows = _jsonl_rows(lines, path) if jsonl else _csv_rows(lines, path)
        # An empty JSONL file names no columns: a timeline without utterances.
        labels = _labels(columns, path) if columns is not None else ()
        predictions = []
        for number, row, torn in rows:
            try:
                if isinstance(row, ReportError):
                    raise row
                predictions.append(_prediction(row, labels, path, number))
            except ReportError:
                if not torn:
                    raise
                warnings.append(
                    f"{path} line {number}: the last line is incomplete (was the run cut "
                    "short?); reporting the rows before it"
                )
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not a text file (is it really a ser-live timeline?)") from None
    except csv.Error as exc:
        raise ReportError(f"{path}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read ({exc.strerror})") from None
    predictions.sort(key=lambda p: p.start_s)
    return Timeline(path, labels, tuple(predictions), tuple(warnings))


# (line number, the row's fields or why it cannot be read, whether it is a torn last line)
Rows = Iterator[tuple[int, "dict[str, object] | ReportError", bool]]


def _torn_line(lines: list[str]) -> int:
    """1-based number of the last line when it is torn, else 0. ser-live ends every row with a
    newline, its last byte: a last line without one was cut off while being written."""
    if lines and lines[-1].strip() and not lines[-1].endswith(("\n", "\r")):
        return len(lines)
    return 0


def _csv_rows(lines: list[str], path: Path) -> tuple[list[str] | None, Rows]:
    reader = csv.reader(lines)
    header = next(reader, None)
    if not header:
        raise ReportError(f"{path}: empty file (no header row)")
    header = [name.strip() for name in header]
    torn = _torn_line(lines)

    def rows() -> Rows:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            line = reader.line_num
            if len(values) != len(header):
                problem = ReportError(
                    f"{path} line {line}: {len(values)} fields, the header has {len(header)}"
                )
                yield line, problem, line == torn
                continue
            yield line, dict(zip(header, values, strict=True)), line == torn

    return header, rows()


def _jsonl_rows(lines: list[str], path: Path) -> tuple[list[str] | None, Rows]:
    records: list[tuple[int, dict[str, object] | ReportError, bool]] = []
    torn = _torn_line(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = number == torn
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = ReportError(f"{path} line {number}: not JSON ({exc.msg})")
            records.append((number, problem, last))
            continue
        except (RecursionError, ValueError):  # brackets nested thousands deep, 5000-digit numbers
            raise ReportError(
                f"{path} line {number}: not a ser-live timeline row (nested too deeply or a "
                "number too long to read)"
            ) from None
        if not isinstance(record, dict):
            raise ReportError(f"{path} line {number}: not a JSON object")
        if record.get("final", True) is False:
            continue  # provisional: the utterance's final line follows
        records.append((number, record, last))
    first = next((r for _, r, _ in records if isinstance(r, dict)), None)
    return (list(first) if first is not None else None), iter(records)


def _labels(columns: list[str], path: Path) -> tuple[str, ...]:
    for name in REQUIRED:
        if name not in columns:
            raise ReportError(f"{path}: not a ser-live timeline (no {name} column)")
    prefix = PROBABILITY_PREFIX
    labels = tuple(c[len(prefix) :] for c in columns if c.startswith(prefix))
    for label in labels:
        if not PLAIN_LABEL.fullmatch(label):
            raise ReportError(
                f"{path}: column {(PROBABILITY_PREFIX + label)!r} does not name a plain label "
                "(letters, digits, _ and -, at most 40)"
            )
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
    if end > MAX_TIME_S:
        raise ReportError(
            f"{path} line {line}: end_s {end:.6g} is past {MAX_TIME_S:.0e} s (about 116 days); "
            "not a time in a recording"
        )
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
        wall_time=_stamp(row.get("wall_time")),
        labels=labels,
        probabilities=probabilities,
        latency_ms=latency_ms,
        channel=_channel(row, path, line),
    )


def _stamp(value: object) -> datetime | None:
    """A row's ``wall_time``; None when absent or not ISO 8601 (a hand-made timeline)."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _channel(row: dict[str, object], path: Path, line: int) -> int | None:
    """The 1-based ``channel``; None when the column is absent or empty (a downmix)."""
    value = row.get("channel")
    if value is None or value == "":
        return None
    number = _number(row, "channel", path, line)
    if number != int(number) or not 1 <= number <= 1024:
        raise ReportError(f"{path} line {line}: channel must be a whole number from 1 ({value!r})")
    return int(number)

"""DIR/calls.csv, written from the run state (:mod:`streamer.batch.state`) whole: a temporary
file renamed over the old one, so a reader always sees a complete table and a full disk never
leaves half of one (nor the temporary file).

One row per recording, sorted by path (the same folder gives the same table whatever order its
runs came in); with ``--channels each`` one more row per channel, whose ``channel`` says which.
Columns are the union over every model whose results the folder holds: a ``share_`` column of
a label the row's model does not have is empty. Every column is described in docs/batch.md.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path

from streamer.batch.job import DONE
from streamer.batch.names import shown
from streamer.batch.state import RunState
from streamer.batch.summary import UNCERTAIN
from streamer.errors import LogWriteError
from streamer.sinks.spreadsheet import safe_cells

CALLS_CSV = "calls.csv"

HEAD = [
    "path",
    "channel",
    "status",
    "error",
    "note",
    "channels",
    "duration_s",
    "speech_s",
    "utterances",
    "uncertain_below",
]
TAIL = [
    "valence",
    "arousal",
    "peak_arousal_start_s",
    "peak_arousal_end_s",
    "peak_arousal_label",
    "peak_arousal",
    "dominant_negative",
    "dominant_negative_share",
    "dominant_negative_start_s",
    "dominant_negative_end_s",
    "dominant_negative_confidence",
    "bad_samples",
    "processing_s",
    "output",
    "report",
    "size_bytes",
    "mtime_ns",
    "fingerprint",
    "view_fingerprint",
]
DIGITS = {
    "duration_s": 3,
    "speech_s": 3,
    "uncertain_below": 4,
    "valence": 4,
    "arousal": 4,
    "peak_arousal_start_s": 3,
    "peak_arousal_end_s": 3,
    "peak_arousal": 4,
    "dominant_negative_share": 4,
    "dominant_negative_start_s": 3,
    "dominant_negative_end_s": 3,
    "dominant_negative_confidence": 4,
    "processing_s": 3,
}


def share_labels(model_labels: Iterable[str], recorded: set[str]) -> list[str]:
    """The share columns: this model's labels in its order, other models' after them
    (alphabetically), ``uncertain`` last."""
    ordered = [label for label in model_labels if label != UNCERTAIN]
    ordered += sorted(recorded - set(ordered) - {UNCERTAIN})
    return [*ordered, UNCERTAIN]


def field_names(labels: list[str]) -> list[str]:
    return HEAD + [f"share_{label}" for label in labels] + TAIL


def _number(value: object, digits: int) -> object:
    return "" if value is None else round(float(value), digits)  # type: ignore[arg-type]


def _rows(state: RunState, labels: list[str]) -> Iterable[list[object]]:
    own_labels: dict[str, set[str] | None] = {}
    for recording, summaries in state.rows():
        fingerprint = recording["fingerprint"]
        if fingerprint not in own_labels:
            described = state.settings_of(fingerprint) or {}
            own_labels[fingerprint] = set(described.get("labels", ())) or None
        outputs = json.loads(recording["outputs"])
        for summary, shares in summaries or [({}, {})]:
            cells = {**recording, **summary}
            if recording["status"] not in DONE:  # nothing was measured
                cells.update(duration_s=None, bad_samples=None)
            cells["channel"] = summary.get("channel") or ""
            cells["output"] = shown(outputs[0]) if outputs else ""
            cells["report"] = shown(next((o for o in outputs if ".report." in o), ""))
            yield _row(cells, shares, labels, own_labels[fingerprint])


def _row(
    cells: dict, shares: dict[str, float], labels: list[str], own: set[str] | None
) -> list[object]:
    values = [cells.get(name) for name in HEAD]
    talk = bool(cells.get("utterances"))
    for label in labels:  # a label the row's model has is 0 when never shown; else empty
        known = own is None or label in own or label == UNCERTAIN
        values.append(_number(shares.get(label, 0.0), 4) if talk and known else "")
    values += [cells.get(name) for name in TAIL]
    names = HEAD + [""] * len(labels) + TAIL
    return [
        _number(v, DIGITS[n]) if n in DIGITS else ("" if v is None else v)
        for n, v in zip(names, values, strict=True)
    ]


def write_calls(state: RunState, folder: Path, model_labels: Iterable[str]) -> Path:
    """Write DIR/calls.csv from ``state``: temporary file, then rename (LogWriteError, and no
    temporary file left, when it cannot be written)."""
    path = folder / CALLS_CSV
    labels = share_labels(model_labels, state.labels())
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(temp, "w", newline="", encoding="utf-8", errors="backslashreplace") as handle:
            writer = csv.writer(handle)
            writer.writerow(field_names(labels))
            for row in _rows(state, labels):
                writer.writerow(safe_cells(row))
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise LogWriteError(
            f"cannot write {path}: {exc.strerror or exc} (every result is kept in "
            f"{state.path}; the next run writes calls.csv again)"
        ) from None
    return path

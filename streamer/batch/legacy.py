"""An output folder made before the run state existed: its calls.csv is taken into the database
once, so a rerun keeps its rows (and resumes) instead of writing calls.csv anew without them.

Those rows keep what they said (shares of the arg-max label, no ``share_uncertain``), with a note
saying so; a run that covers one of their recordings redoes it (its summary settings are not
known). An old failure is tried again once, since it cannot be told whether the input or the
environment failed. A calls.csv the state does not know in any other form is set aside under a
new name, never overwritten.
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path, PurePosixPath

from streamer.batch.calls import CALLS_CSV
from streamer.batch.job import OK, CallResult, FileState
from streamer.batch.state import RunState, key_of
from streamer.batch.summary import ChannelSummary
from streamer.cli_common import say

LEGACY_HEAD = ["path", "status", "error", "duration_s", "speech_s", "utterances"]
NOTE = "summary from an earlier ser-batch (shares of the arg-max label); redone by the next run"


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _result(row: dict[str, str]) -> CallResult:
    ok = row["status"] == OK
    shares = {k[6:]: float(v) for k, v in row.items() if k.startswith("share_") and v}
    summary = ChannelSummary(
        channel=0,
        utterances=int(row["utterances"] or 0),
        speech_s=_float(row["speech_s"]) or 0.0,
        shares=shares,
        valence=_float(row.get("valence", "")),
        arousal=_float(row.get("arousal", "")),
    )
    return CallResult(
        path=row["path"],
        status=row["status"],
        error=row["error"],
        note=NOTE if ok else "",
        duration_s=_float(row["duration_s"]) or 0.0,
        summaries=(summary,) if ok else (),
        processing_s=_float(row.get("processing_s", "")) or 0.0,
        outputs=(row["output"],) if row.get("output") else (),
        state=FileState(int(row.get("size_bytes") or -1), int(row.get("mtime_ns") or -1)),
        fingerprint=row.get("fingerprint", ""),
    )


def adopt_old_calls(folder: Path, state: RunState) -> None:
    """Take an old calls.csv into a new (empty) state; set aside one of an unknown form."""
    path = folder / CALLS_CSV
    if not path.is_file() or state.has_results():
        return
    try:
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader) if (reader.fieldnames or [])[:6] == LEGACY_HEAD else None
    except (OSError, csv.Error):
        rows = None
    if rows is None:
        aside = path.with_name(f"{CALLS_CSV}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
        os.replace(path, aside)
        say(f"ser-batch: {path} has rows {state.path} does not know; kept as {aside.name}")
        return
    names = {}
    for row in rows:
        result = _result(row)
        state.record(result)
        if result.output.endswith(".csv"):
            names[key_of(result.path)] = PurePosixPath(result.output[: -len(".csv")])
    state.keep_names(names)
    say(f"ser-batch: took the {len(rows)} rows of an earlier ser-batch's {CALLS_CSV} over")

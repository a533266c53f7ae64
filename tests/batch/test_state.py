"""The run state (issue 22.1): each result one transaction, rows of every run and model kept,
paths keyed by their bytes, and a database that cannot be written or read is one line."""

import os
import sqlite3
from pathlib import PurePosixPath

import pytest

from streamer.batch.job import CallResult, FileState
from streamer.batch.state import RunState, StateError, key_of
from streamer.batch.summary import ChannelSummary, Moment
from streamer.errors import OutputError


def result(path: str, status: str = "ok", shares=None, **kw) -> CallResult:
    summary = ChannelSummary(
        channel=0,
        utterances=2,
        speech_s=3.0,
        shares=shares or {"angry": 0.5, "uncertain": 0.5},
        peak_arousal=Moment(1.0, 2.0, "angry", 0.8),
    )
    return CallResult(
        path=path,
        status=status,
        summaries=(summary,) if status == "ok" else (),
        outputs=(f"{PurePosixPath(path).name}.csv",),
        state=FileState(10, 20),
        fingerprint="f1",
        **kw,
    )


def test_a_result_is_recorded_and_replaced_whole(tmp_path):
    state = RunState(tmp_path)
    state.record(result("/in/a.wav"))
    state.record(result("/in/b.wav", shares={"sad": 1.0}))
    state.record(result("/in/a.wav", status="retry", error="disk full"))
    rows = {r["path"]: (r, s) for r, s in state.rows()}
    assert rows["/in/a.wav"][0]["status"] == "retry" and rows["/in/a.wav"][1] == []
    assert rows["/in/b.wav"][1][0][1] == {"sad": 1.0}
    assert state.labels() == {"sad"}
    previous = state.previous(key_of("/in/b.wav"))
    assert (previous.status, previous.size_bytes, previous.outputs) == ("ok", 10, ("b.wav.csv",))
    state.close()


def test_paths_that_are_not_utf8_are_kept_exactly(tmp_path):
    odd = os.fsdecode(b"/in/caf\xe9.wav")
    state = RunState(tmp_path)
    state.record(result(odd, error=f"cannot read {odd}"))
    state.keep_names({key_of(odd): PurePosixPath(os.fsdecode(b"caf\xe9.wav"))})
    (recording, _), = list(state.rows())
    assert recording["path"] == "/in/caf\\xe9.wav"
    assert bytes(recording["key"]) == b"/in/caf\xe9.wav"
    assert state.names() == {b"/in/caf\xe9.wav": PurePosixPath(os.fsdecode(b"caf\xe9.wav"))}
    state.close()


def test_a_file_that_is_not_a_database_is_a_usage_error(tmp_path):
    (tmp_path / "calls.sqlite").write_text("path,status\n")
    with pytest.raises(OutputError, match="not a ser-batch state database"):
        RunState(tmp_path)


class FullDisk:
    """A connection whose writes fail as SQLite's do on a full disk."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, *args):
        if sql.startswith("INSERT"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)


def test_a_full_disk_records_nothing_of_the_result_and_says_so_in_one_line(tmp_path):
    state = RunState(tmp_path)
    state.record(result("/in/a.wav"))
    state._db = FullDisk(state._db)
    with pytest.raises(StateError, match="cannot record results in .*database or disk is full"):
        state.record(result("/in/a.wav", status="retry"))
    state._db = state._db.db
    assert state.previous(key_of("/in/a.wav")).status == "ok"  # rolled back whole
    assert len(list(state.rows())[0][1]) == 1
    state.close()

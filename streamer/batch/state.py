"""The run state of an output folder: ``DIR/calls.sqlite``, the one record of what is done.

Why a database: calls.csv used to be both the record and the report, appended as recordings
finished and rewritten whole from one run's view at its end; two runs, or a crash between the
two steps, lost rows. Each result is now one SQLite transaction (a result is recorded whole or
not at all, whatever kills the process), rows of earlier runs, other inputs and other models
stay as they are, and calls.csv is written from the database (temporary file + rename), never
from one run's view. SQLite is in the standard library, and users can query the file
(``sqlite3 DIR/calls.sqlite 'select path, status from recordings'``).

The journal is SQLite's default rollback journal, not WAL: WAL needs shared memory that
network file systems do not provide, and output folders on NFS are what Dask users have; one
commit per recording costs milliseconds against seconds of audio work. Runs are kept apart by
:mod:`streamer.batch.lock`, not by the database.

Tables: ``recordings`` (one row per input: status, cause, error, note, outputs, what makes it
current), ``summaries`` (per recording and channel; channel 0 is the whole recording),
``shares`` (per recording, channel and shown label), ``names`` (the output name each input was
given, kept across runs so a name never moves), ``settings`` (what each fingerprint stands for).
Paths are keyed by their bytes; ``path`` holds the text shown (:func:`streamer.batch.names.shown`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from streamer.batch.job import CallResult
from streamer.batch.names import shown
from streamer.batch.summary import ChannelSummary, Moment
from streamer.errors import LogWriteError, OutputError

STATE_NAME = "calls.sqlite"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS names (key BLOB PRIMARY KEY, name BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS settings (fingerprint TEXT PRIMARY KEY, description TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS recordings (
    key BLOB PRIMARY KEY,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    cause TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    channels TEXT NOT NULL DEFAULT 'mix',
    duration_s REAL,
    bad_samples INTEGER NOT NULL DEFAULT 0,
    uncertain_below REAL,
    processing_s REAL,
    outputs TEXT NOT NULL DEFAULT '[]',
    size_bytes INTEGER,
    mtime_ns INTEGER,
    fingerprint TEXT NOT NULL DEFAULT '',
    view_fingerprint TEXT NOT NULL DEFAULT '',
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS summaries (
    key BLOB NOT NULL,
    channel INTEGER NOT NULL,
    utterances INTEGER,
    speech_s REAL,
    valence REAL,
    arousal REAL,
    peak_arousal_start_s REAL,
    peak_arousal_end_s REAL,
    peak_arousal_label TEXT,
    peak_arousal REAL,
    dominant_negative TEXT,
    dominant_negative_share REAL,
    dominant_negative_start_s REAL,
    dominant_negative_end_s REAL,
    dominant_negative_confidence REAL,
    PRIMARY KEY (key, channel)
);
CREATE TABLE IF NOT EXISTS shares (
    key BLOB NOT NULL,
    channel INTEGER NOT NULL,
    label TEXT NOT NULL,
    share REAL NOT NULL,
    PRIMARY KEY (key, channel, label)
);
"""


class StateError(LogWriteError):
    """The run state cannot be written (a full disk): the run stops, what is recorded stays."""


@dataclass(frozen=True)
class Previous:
    """What the state says about one input from an earlier run."""

    status: str
    cause: str
    fingerprint: str
    view_fingerprint: str
    size_bytes: int | None
    mtime_ns: int | None
    outputs: tuple[str, ...]


def key_of(path: str) -> bytes:
    return os.fsencode(path)


def _moment_columns(moment: Moment | None) -> list[object]:
    if moment is None:
        return [None, None, None, None]
    return [moment.start_s, moment.end_s, moment.label, moment.value]


class RunState:
    """The database of one output folder; every method is one transaction."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_NAME
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.executescript(SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc, reading=True) from None

    def _error(self, exc: Exception, reading: bool = False) -> Exception:
        if reading and "not a database" in str(exc):
            return OutputError(
                f"{self.path} is not a ser-batch state database ({exc}); move it away"
            )
        return StateError(f"cannot record results in {self.path}: {exc}")

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise OutputError(
                f"{self.path} was written by another version of ser-batch (schema {row[0]}); "
                "use another --out"
            )

    def close(self) -> None:
        self._db.close()

    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        """Run ``statements`` as one transaction (all or nothing)."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, values in statements:
                    self._db.execute(sql, values)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    # --- names and settings ------------------------------------------------------------

    def names(self) -> dict[bytes, PurePosixPath]:
        rows = self._db.execute("SELECT key, name FROM names").fetchall()
        return {bytes(key): PurePosixPath(os.fsdecode(bytes(name))) for key, name in rows}

    def keep_names(self, names: dict[bytes, PurePosixPath]) -> None:
        sql = "INSERT OR IGNORE INTO names VALUES (?, ?)"
        self._write([(sql, (key, os.fsencode(str(name)))) for key, name in names.items()])

    def move(self, old: bytes, new: bytes) -> None:
        """An input found at another path: its results and name are the new path's."""
        statements: list[tuple[str, tuple]] = [
            (f"UPDATE {table} SET key = ? WHERE key = ?", (new, old))
            for table in ("names", "summaries", "shares")
        ]
        statements.append(
            (
                "UPDATE recordings SET key = ?, path = ? WHERE key = ?",
                (new, shown(os.fsdecode(new)), old),
            )
        )
        self._write(statements)

    def keep_settings(self, fingerprint: str, description: dict) -> None:
        sql = "INSERT OR REPLACE INTO settings VALUES (?, ?)"
        self._write([(sql, (fingerprint, json.dumps(description, sort_keys=True)))])

    def settings_of(self, fingerprint: str) -> dict | None:
        row = self._db.execute(
            "SELECT description FROM settings WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    # --- results ------------------------------------------------------------------------

    def previous(self, key: bytes) -> Previous | None:
        row = self._db.execute(
            "SELECT status, cause, fingerprint, view_fingerprint, size_bytes, mtime_ns, outputs "
            "FROM recordings WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        return Previous(*row[:6], outputs=tuple(json.loads(row[6])))

    def record(self, result: CallResult) -> None:
        """Replace what is known of ``result.path`` with ``result``, in one transaction."""
        key = key_of(result.path)
        statements: list[tuple[str, tuple]] = [
            ("DELETE FROM summaries WHERE key = ?", (key,)),
            ("DELETE FROM shares WHERE key = ?", (key,)),
            (
                "INSERT OR REPLACE INTO recordings VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    shown(result.path),
                    result.status,
                    result.cause,
                    shown(result.error),  # messages name paths, which need not be UTF-8
                    shown(result.note),
                    result.channels,
                    result.duration_s,
                    result.bad_samples,
                    result.uncertain_below,
                    result.processing_s,
                    json.dumps(list(result.outputs)),
                    result.state.size,
                    result.state.mtime_ns,
                    result.fingerprint,
                    result.view_fingerprint,
                    time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                ),
            ),
        ]
        for summary in result.summaries:
            statements += _summary_statements(key, summary)
        self._write(statements)

    def has_results(self) -> bool:
        return self._db.execute("SELECT 1 FROM recordings LIMIT 1").fetchone() is not None

    def statuses(self, keys: list[bytes]) -> dict[bytes, str]:
        found = {}
        for key in keys:
            row = self._db.execute("SELECT status FROM recordings WHERE key = ?", (key,)).fetchone()
            if row is not None:
                found[key] = row[0]
        return found

    def labels(self) -> set[str]:
        """Every label of the models whose results the folder holds (and any label a share was
        recorded of), for calls.csv's columns."""
        found = {label for (label,) in self._db.execute("SELECT DISTINCT label FROM shares")}
        for (description,) in self._db.execute(
            "SELECT description FROM settings WHERE fingerprint IN "
            "(SELECT DISTINCT fingerprint FROM recordings)"
        ):
            found.update(json.loads(description).get("labels", ()))
        return found

    def rows(self) -> Iterator[tuple[dict, list[tuple[dict, dict[str, float]]]]]:
        """Every recording (sorted by path) with its summaries and their shares (three
        queries, whatever the number of recordings)."""
        db = self._db
        db.row_factory = sqlite3.Row
        try:
            summaries: dict[bytes, list[dict]] = {}
            for row in db.execute("SELECT * FROM summaries ORDER BY key, channel"):
                summaries.setdefault(bytes(row["key"]), []).append(dict(row))
            shares: dict[tuple[bytes, int], dict[str, float]] = {}
            for key, channel, label, share in db.execute("SELECT * FROM shares"):
                shares.setdefault((bytes(key), channel), {})[label] = share
            recordings = db.execute("SELECT * FROM recordings ORDER BY key").fetchall()
        finally:
            db.row_factory = None
        for recording in recordings:
            key = bytes(recording["key"])
            yield dict(recording), [
                (summary, shares.get((key, summary["channel"]), {}))
                for summary in summaries.get(key, [])
            ]


def _summary_statements(key: bytes, summary: ChannelSummary) -> list[tuple[str, tuple]]:
    values = (
        [key, summary.channel, summary.utterances, summary.speech_s, summary.valence]
        + [summary.arousal]
        + _moment_columns(summary.peak_arousal)
        + [summary.dominant_negative or None, summary.dominant_negative_share]
        + _moment_columns(summary.dominant_negative_peak)[:2]
        + [summary.dominant_negative_peak.value if summary.dominant_negative_peak else None]
    )
    statements = [
        (f"INSERT INTO summaries VALUES ({', '.join('?' * len(values))})", tuple(values))
    ]
    for label, share in summary.shares.items():
        statements.append(
            ("INSERT INTO shares VALUES (?, ?, ?, ?)", (key, summary.channel, label, share))
        )
    return statements

"""Run ser-live, ser-batch and ser-report as subprocesses (bounded in time) and read what they
wrote."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 120


def run(module: str, *args: object, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        errors="backslashreplace",
    )


def ser_live(*args: object, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return run("streamer.live.cli", *args, timeout=timeout)


def ser_batch(*args: object, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return run("streamer.batch.cli", *args, timeout=timeout)


def ser_report(*args: object, timeout: float = TIMEOUT_S) -> subprocess.CompletedProcess:
    return run("streamer.report.cli", *args, timeout=timeout)


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def calls_by_name(out: Path) -> dict[str, dict[str, str]]:
    """calls.csv's recording rows (channel empty) by the input's file name."""
    return {Path(r["path"]).name: r for r in rows_of(out / "calls.csv") if not r["channel"]}


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr

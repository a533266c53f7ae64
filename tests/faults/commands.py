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


def archive(demo: Path, folder: Path, names: list[str], repeat: int = 1) -> list[Path]:
    """Copies of the demo call (``repeat`` times over: 37 s each) under ``folder``."""
    import numpy as np
    import soundfile as sf

    audio, rate = sf.read(demo, dtype="float32")
    long_call = np.tile(audio, repeat)
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, long_call, rate, subtype="PCM_16")
        paths.append(path)
    return paths


def start_batch(*args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streamer.batch.cli", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="backslashreplace",
    )


def wait_for(condition, timeout_s: float = 60.0, what: str = "a condition") -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def worker_pids(out: Path) -> list[int]:
    """The pids of the local workers of the run holding ``out`` (they write them down)."""
    try:
        return [int(p) for p in (out / ".ser-batch.workers").read_text().split()]
    except (OSError, ValueError):
        return []


def alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped by its parent) counts as gone
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[-1][0] != "Z"
    except OSError:
        return True


def timelines(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*.csv"))
        if p.name != "calls.csv"
    }

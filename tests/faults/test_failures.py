"""22.6 and 22.15: failures are blamed on the right thing.

Before: after a full disk was freed the rerun said "16 of 16 done before; 16 failed" and exited
1; a dead local worker was blamed on recordings it never started. Now a failure of the
environment (a full disk, a killed worker) is a ``retry`` row the next run redoes, a failure of
the input itself stays failed without --retry-failed, and a dead worker costs only the
recording it held."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time

from tests.faults.commands import (
    archive,
    calls_by_name,
    no_traceback,
    ser_batch,
    start_batch,
    wait_for,
    worker_pids,
)


def test_a_full_disk_is_retried_by_the_next_run_and_a_broken_file_is_not(demo_call, tmp_path):
    calls = tmp_path / "calls"
    archive(demo_call, calls, ["long.wav"], repeat=16)  # its JSON lines pass 150 kB
    (calls / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt nothing more")
    out = tmp_path / "out"
    limit = 100_000  # bytes per file: as if the disk filled while the JSON lines were written

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG

    full = subprocess.run(
        [sys.executable, "-m", "streamer.batch.cli", str(calls), "--out", str(out)]
        + ["--jsonl", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
    )
    no_traceback(full)
    assert full.returncode == 1
    rows = calls_by_name(out)
    assert rows["long.wav"]["status"] == "retry", rows["long.wav"]
    assert "cannot write JSONL" in rows["long.wav"]["error"]
    assert rows["broken.wav"]["status"] == "error"
    assert "1 by the environment (tried again by the next run)" in full.stderr
    freed = ser_batch(calls, "--out", out, "--jsonl", "--workers", 1)
    assert freed.returncode == 1  # broken.wav still is
    assert "1 of 2 recordings done before" in freed.stderr
    rows = calls_by_name(out)
    assert rows["long.wav"]["status"] == "ok" and rows["broken.wav"]["status"] == "error"
    retried = ser_batch(calls, "--out", out, "--jsonl", "--retry-failed", "--workers", 1)
    assert "broken.wav: error" in retried.stderr and "long.wav" not in retried.stderr


def test_an_output_folder_that_cannot_be_made_is_the_environments_fault(demo_call, tmp_path):
    calls = tmp_path / "calls"
    archive(demo_call, calls, ["day1/a.wav", "day2/b.wav"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "day1").write_text("a file where the folder of day1's outputs goes\n")
    first = ser_batch(calls, "--out", out, "--workers", 1)
    assert first.returncode == 1
    rows = calls_by_name(out)
    assert rows["a.wav"]["status"] == "retry" and rows["b.wav"]["status"] == "ok"
    (out / "day1").unlink()
    second = ser_batch(calls, "--out", out, "--workers", 1)
    assert second.returncode == 0, second.stderr
    assert calls_by_name(out)["a.wav"]["status"] == "ok"


def test_a_killed_worker_is_blamed_only_on_the_recording_it_held(demo_call, tmp_path):
    calls = tmp_path / "calls"
    names = ["a.wav", "b.wav", "c.wav", "d.wav"]
    archive(demo_call, calls, names, repeat=16)  # 10 minutes each: seconds of work
    out = tmp_path / "out"
    run = start_batch(calls, "--out", out, "--workers", 2)
    wait_for(lambda: len(worker_pids(out)) == 2, what="two workers")
    time.sleep(4.0)  # both ready and each well into its first recording
    os.kill(worker_pids(out)[0], signal.SIGKILL)
    _, stderr = run.communicate(timeout=180)
    assert run.returncode == 1, stderr
    rows = calls_by_name(out)
    assert set(rows) == set(names)  # every recording was run (the others requeued)
    blamed = [r for r in rows.values() if r["status"] != "ok"]
    assert len(blamed) == 1, rows
    assert blamed[0]["status"] == "retry"
    assert blamed[0]["error"] == (
        "the worker process died while processing this recording (killed by SIGKILL; out of "
        "memory?)"
    )
    assert "1 by the environment" in stderr
    again = ser_batch(calls, "--out", out, "--workers", 2)
    assert again.returncode == 0 and "3 of 4 recordings done before" in again.stderr


FULL_DISK_FOR_CALLS_CSV = """
import errno, os, sys
import streamer.batch.calls as calls
from streamer.batch.cli import main

real = os.replace
def replace(src, dst):
    if str(dst).endswith("calls.csv"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real(src, dst)
calls.os.replace = replace
sys.exit(main(sys.argv[1:]))
"""


def test_calls_csv_on_a_full_disk_is_one_line_and_leaves_no_part_file(demo_call, tmp_path):
    """22.20: it said a bare "[Errno 28]" and left .calls.csv.part behind."""
    archive(demo_call, tmp_path / "calls", ["a.wav", "b.wav"])
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_FOR_CALLS_CSV, str(tmp_path / "calls")]
        + ["--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    no_traceback(result)
    assert result.returncode == 1
    mentions = [line for line in result.stderr.splitlines() if "calls.csv" in line]
    assert mentions[-1] == (
        f"ser-batch: error: cannot write {out / 'calls.csv'}: No space left on device (every "
        f"result is kept in {out / 'calls.sqlite'}; the next run writes calls.csv again)"
    )
    assert len([m for m in mentions if "No space" in m]) == 1
    assert not [p for p in out.iterdir() if ".part" in p.name or p.name == "calls.csv"]
    again = ser_batch(tmp_path / "calls", "--out", out, "--workers", 1)
    assert again.returncode == 0 and "2 of 2 recordings done before" in again.stderr
    assert set(calls_by_name(out)) == {"a.wav", "b.wav"}

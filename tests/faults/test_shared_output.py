"""22.1 and 22.2: runs sharing an output folder, and a parent killed with SIGKILL.

Before: two runs on one --out mixed rows of both into timelines; the same command twice left
failed .part.csv rows; a second input folder's rows vanished from calls.csv; the workers of a
killed ser-batch ran on for minutes, still writing, and collided with the rerun."""

from __future__ import annotations

import os
import signal
import time

from tests.faults.commands import (
    alive,
    archive,
    calls_by_name,
    no_traceback,
    ser_batch,
    start_batch,
    timelines,
    wait_for,
    worker_pids,
)


def test_a_second_run_on_a_busy_folder_is_refused_naming_the_first(demo_call, tmp_path):
    archive(demo_call, tmp_path / "calls", ["a.wav", "b.wav", "c.wav"], repeat=6)
    out = tmp_path / "out"
    first = start_batch(tmp_path / "calls", "--out", out, "--workers", 1)
    try:
        wait_for(lambda: worker_pids(out), what="the first run's worker")
        second = ser_batch(tmp_path / "calls", "--out", out, "--workers", 1, "--jsonl")
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"ser-batch: error: {out} is in use by ser-batch pid {first.pid} on "
            f"{os.uname().nodename}; wait for that run to finish (or stop it), or choose "
            "another --out"
        )
    finally:
        _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    rows = calls_by_name(out)
    assert {r["status"] for r in rows.values()} == {"ok"} and len(rows) == 3
    assert not list(out.rglob("*.jsonl")) and not list(out.rglob(".*.part*"))


def test_runs_over_other_inputs_add_their_rows_to_calls_csv(demo_call, tmp_path):
    archive(demo_call, tmp_path / "morning", ["a.wav", "b.wav"])
    archive(demo_call, tmp_path / "evening", ["c.wav"])
    out = tmp_path / "out"
    assert ser_batch(tmp_path / "morning", "--out", out, "--workers", 2).returncode == 0
    assert ser_batch(tmp_path / "evening", "--out", out, "--workers", 1).returncode == 0
    assert set(calls_by_name(out)) == {"a.wav", "b.wav", "c.wav"}
    again = ser_batch(tmp_path / "morning", "--out", out, "--workers", 1)
    assert "2 of 2 recordings done before" in again.stderr
    assert set(calls_by_name(out)) == {"a.wav", "b.wav", "c.wav"}


def test_a_killed_parent_takes_its_workers_along_and_the_rerun_finishes_the_job(
    demo_call, tmp_path
):
    calls = tmp_path / "calls"
    archive(demo_call, calls, ["a.wav", "b.wav", "c.wav"], repeat=8)  # 5 min: seconds each
    clean = tmp_path / "clean"
    assert ser_batch(calls, "--out", clean, "--workers", 2).returncode == 0
    out = tmp_path / "out"
    parent = start_batch(calls, "--out", out, "--workers", 2)
    wait_for(lambda: len(worker_pids(out)) == 2, what="two workers")
    wait_for(lambda: (out / "calls.csv").exists(), what="the first result")
    workers = worker_pids(out)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    # Both are in the middle of a recording: they die with their parent, not when it is done.
    deadline = time.monotonic() + 1.0
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)
    rerun = ser_batch(calls, "--out", out, "--workers", 2)
    no_traceback(rerun)
    assert rerun.returncode == 0, rerun.stderr
    assert "recordings done before" in rerun.stderr  # what the killed run finished is kept
    assert timelines(out) == timelines(clean)
    assert not [p for p in out.rglob(".*") if not p.name.startswith(".ser-batch.")]


def test_an_archive_moved_elsewhere_keeps_its_results_and_names(demo_call, tmp_path):
    archive(demo_call, tmp_path / "calls", ["a.wav", "sub/b.wav"])
    out = tmp_path / "out"
    assert ser_batch(tmp_path / "calls", "--out", out, "--workers", 2).returncode == 0
    before = timelines(out)
    (tmp_path / "calls").rename(tmp_path / "moved")
    again = ser_batch(tmp_path / "moved", "--out", out, "--workers", 1)
    assert again.returncode == 0, again.stderr
    assert "2 of 2 recordings done before" in again.stderr
    assert timelines(out) == before  # no x~2 copies, nothing redone
    assert {r["path"] for r in calls_by_name(out).values()} == {
        str(tmp_path / "moved" / "a.wav"),
        str(tmp_path / "moved" / "sub" / "b.wav"),
    }

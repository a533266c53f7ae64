"""22.19: killing the Dask scheduler mid-run printed distributed's tracebacks and marked the
recordings that never ran as failed. Now: one line, exit 1, the finished recordings recorded,
the others not marked at all, and the same command on a new scheduler resumes."""

from __future__ import annotations

import signal

from dask_cluster import dask_cluster, stop

from tests.faults.commands import archive, calls_by_name, ser_batch, start_batch, wait_for


def test_a_lost_scheduler_is_one_line_and_a_rerun_resumes(demo_call, tmp_path):
    calls = tmp_path / "calls"
    names = [f"c{i}.wav" for i in range(6)]
    archive(demo_call, calls, names, repeat=4)
    out = tmp_path / "out"
    with dask_cluster(tmp_path / "first", workers=1) as (address, scheduler):
        run = start_batch(calls, "--out", out, "--scheduler", address)
        wait_for(lambda: (out / "calls.csv").exists(), timeout_s=90, what="the first result")
        stop(scheduler, signal.SIGKILL)
        _, stderr = run.communicate(timeout=90)
    assert run.returncode == 1, stderr
    assert "Traceback" not in stderr and "distributed" not in stderr
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert errors == [
        f"ser-batch: error: lost the Dask scheduler at {address} mid-run; the recordings "
        "finished so far are recorded, run the same command again to resume"
    ]
    rows = calls_by_name(out)
    assert 1 <= len(rows) < len(names)  # the never-run recordings have no row at all
    assert {r["status"] for r in rows.values()} == {"ok"}
    with dask_cluster(tmp_path / "second", workers=1) as (address, _):
        again = ser_batch(calls, "--out", out, "--scheduler", address)
    assert again.returncode == 0, again.stderr
    assert f"{len(rows)} of {len(names)} recordings done before" in again.stderr
    assert set(calls_by_name(out)) == set(names)

"""ser-batch --scheduler on a real Dask cluster: a scheduler and two worker processes started on
127.0.0.1 by the test, which give the outputs and statuses of the local run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive import make_archive, read_calls, ser_batch
from tools import skip_or_fail

DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60


def _start(args, log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [str(DASK), *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its own process group: the nanny's worker goes with it
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        from distributed import Client
    except ImportError:
        skip_or_fail("dask.distributed not installed (pip install 'ser-live[cluster]')")
    if not DASK.exists():
        skip_or_fail(f"{DASK} not found (pip install 'ser-live[cluster]')")
    root = tmp_path_factory.mktemp("dask")
    scheduler_file = root / "scheduler.json"
    processes = [
        _start(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            root / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scheduler_file.exists(), (root / "scheduler.log").read_text()
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            processes.append(
                _start(
                    [
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"w{i}",
                        "--local-directory",
                        str(root / f"w{i}"),
                    ],
                    root / f"worker{i}.log",
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def test_two_dask_workers_give_the_local_runs_outputs(cluster, batch_archive, tmp_path):
    calls, good, local, _ = batch_archive
    remote = tmp_path / "dask"
    result = ser_batch(calls, "--out", remote, "--scheduler", cluster)
    assert result.returncode == 1, result.stderr
    assert "2 of 8 recordings failed" in result.stderr
    for path in good:
        name = str(path.relative_to(calls)) + ".csv"
        assert (remote / name).read_bytes() == (local / name).read_bytes()
    local_rows, remote_rows = read_calls(local), read_calls(remote)
    assert {k: r["status"] for k, r in remote_rows.items()} == {
        k: r["status"] for k, r in local_rows.items()
    }
    skip = {"processing_s"}
    for key, row in remote_rows.items():
        assert {k: v for k, v in row.items() if k not in skip} == {
            k: v for k, v in local_rows[key].items() if k not in skip
        }
    again = ser_batch(calls, "--out", remote, "--scheduler", cluster)
    assert "8 of 8 recordings done before" in again.stderr


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    calls = tmp_path / "calls"
    make_archive(calls, calls=1)
    result = ser_batch(
        calls,
        "--out",
        tmp_path / "out",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--scheduler-timeout",
        "1",
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], lines

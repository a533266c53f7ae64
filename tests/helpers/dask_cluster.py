"""A real Dask cluster on 127.0.0.1 for tests: a scheduler and worker processes started with the
`dask` command, each in its own process group so the nanny's worker goes with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools import skip_or_fail

DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [str(DASK), *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _address(scheduler_file: Path) -> str | None:
    """The scheduler's address once its file is written whole (it appears empty first)."""
    try:
        return json.loads(scheduler_file.read_text())["address"]
    except (OSError, ValueError, KeyError):
        return None


@contextmanager
def dask_cluster(root: Path, workers: int = 2) -> Iterator[tuple[str, subprocess.Popen]]:
    """(scheduler address, scheduler process) while ``workers`` workers are connected."""
    try:
        from distributed import Client
    except ImportError:
        skip_or_fail("dask.distributed not installed (pip install 'ser-live[cluster]')")
    if not DASK.exists():
        skip_or_fail(f"{DASK} not found (pip install 'ser-live[cluster]')")
    root.mkdir(parents=True, exist_ok=True)
    scheduler_file = root / "scheduler.json"
    scheduler = start(
        ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        + ["--scheduler-file", str(scheduler_file)],
        root / "scheduler.log",
    )
    processes = [scheduler]
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        address = _address(scheduler_file)
        while address is None and time.monotonic() < deadline:
            time.sleep(0.1)
            address = _address(scheduler_file)
        assert address is not None, (root / "scheduler.log").read_text()
        for i in range(workers):
            processes.append(
                start(
                    ["worker", address, "--nthreads", "1", "--no-dashboard", "--name", f"w{i}"]
                    + ["--local-directory", str(root / f"w{i}")],
                    root / f"worker{i}.log",
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield address, scheduler
    finally:
        for process in reversed(processes):
            stop(process)

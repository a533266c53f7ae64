"""One run per output folder (issue 22.1), and no race with a killed run's leftovers (22.2)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from streamer.batch.lock import WORKERS_NAME, FolderBusy, FolderLock, hold_for_worker, still_ours

HOLD = """
import sys, time
from pathlib import Path
from streamer.batch.lock import FolderLock
lock = FolderLock(Path(sys.argv[1]), "feedf00d")
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def holder(folder) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_naming_the_first_runs_pid(tmp_path):
    first = holder(tmp_path)
    try:
        with pytest.raises(FolderBusy, match=f"in use by ser-batch pid {first.pid} on "):
            FolderLock(tmp_path, "0123abcd").acquire()
    finally:
        first.kill()
        first.wait(timeout=10)


def test_the_lock_of_a_run_killed_with_sigkill_is_taken_over(tmp_path):
    first = holder(tmp_path)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    lock = FolderLock(tmp_path, "0123abcd")
    lock.acquire()  # the kernel dropped the dead run's lock: nothing stale to guess about
    assert still_ours(tmp_path, "0123abcd") and not still_ours(tmp_path, "feedf00d")
    lock.release()


LEFTOVER = """
import sys, time
from pathlib import Path
from streamer.batch.lock import hold_for_worker
hold_for_worker(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
"""


def leftover(folder, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", LEFTOVER, str(folder), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_new_run_waits_for_an_earlier_runs_workers_to_be_gone(tmp_path):
    worker = leftover(tmp_path, 1.5)
    started = time.monotonic()
    lock = FolderLock(tmp_path, "0123abcd")
    lock.acquire()
    waited = time.monotonic() - started
    assert worker.wait(timeout=10) == 0
    assert 0.5 < waited < 10
    lock.release()


def test_workers_that_stay_are_named_and_the_run_refused(tmp_path):
    worker = leftover(tmp_path, 60)
    try:
        with pytest.raises(FolderBusy, match=f"worker processes .*pid {worker.pid}.* still"):
            FolderLock(tmp_path, "0123abcd").acquire(wait_for_workers_s=0.5)
    finally:
        worker.kill()
        worker.wait(timeout=10)


def test_a_workers_lock_does_not_block_its_own_run(tmp_path):
    lock = FolderLock(tmp_path, "0123abcd")
    lock.acquire()
    fd = hold_for_worker(tmp_path)
    assert fd is not None and str(os.getpid()) in (tmp_path / WORKERS_NAME).read_text()
    os.close(fd)
    lock.release()

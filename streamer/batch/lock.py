"""One ser-batch run per output folder at a time, and no leftovers of a killed one.

Two runs on one folder used to corrupt it (timelines mixing rows of both, calls.csv vouching for
them). A run holds an exclusive ``flock`` on ``DIR/.ser-batch.lock`` for its whole life and
writes its pid, host and run id into it; a second run is refused with one line naming that pid.
The kernel drops the lock when its holder dies, however it dies (``kill -9`` included), so a
stale lock is never in the way and never needs guessing about.

A killed run's workers could outlive it and go on writing (they die with their parent, see
:mod:`streamer.batch.worker`, but a rerun must not race them meanwhile): each local worker holds
a shared lock on ``DIR/.ser-batch.workers`` and a new run waits until it can take that file
exclusively, i.e. until no worker of an earlier run is left. Workers on a Dask cluster cannot
be waited for this way; before a recording's outputs are renamed into place the job checks that
the lock file still names its run (:func:`still_ours`), so a task of a dead run never replaces
what a newer run wrote.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path

from streamer.errors import OutputError

LOCK_NAME = ".ser-batch.lock"
WORKERS_NAME = ".ser-batch.workers"
WORKERS_WAIT_S = 10.0  # a killed run's workers notice within a second; this is ample

try:
    import fcntl
except ImportError:  # not on a POSIX system: no locking
    fcntl = None  # type: ignore[assignment]


class FolderBusy(OutputError):
    """Another run (or its workers) is using the output folder."""


def _holder(path: Path) -> str:
    try:
        fields = path.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return "another ser-batch run"
    if len(fields) >= 2:
        return f"ser-batch pid {fields[0]} on {fields[1]}"
    return "another ser-batch run"


class FolderLock:
    """The lock a run holds on ``folder``; :meth:`acquire` or :class:`FolderBusy`."""

    def __init__(self, folder: Path, run_id: str) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.run_id = run_id
        self._fd = -1
        self.warning = ""  # set when the file system cannot lock

    def acquire(self, wait_for_workers_s: float = WORKERS_WAIT_S) -> None:
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write in {self.folder}: {exc.strerror}") from None
        if fcntl is None:
            self.warning = "cannot lock the output folder on this system"
        else:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.release()
                raise FolderBusy(
                    f"{self.folder} is in use by {_holder(self.path)}; wait for that run to "
                    "finish (or stop it), or choose another --out"
                ) from None
            except OSError as exc:  # a file system without locks (some network mounts)
                self.warning = (
                    f"cannot lock {self.folder} ({exc.strerror}); runs are not kept apart"
                )
            else:
                self._wait_for_workers(wait_for_workers_s)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()} {socket.gethostname()} {self.run_id}\n".encode(), 0)

    def _wait_for_workers(self, timeout_s: float) -> None:
        """Until no worker of an earlier run holds the workers file (FolderBusy after
        ``timeout_s``)."""
        path = self.folder / WORKERS_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        pids = " ".join(path.read_text(errors="replace").split()[-8:])
                        self.release()
                        raise FolderBusy(
                            f"worker processes of an earlier ser-batch run (pid {pids}) are "
                            f"still writing to {self.folder}; stop them or wait, then run again"
                        ) from None
                    time.sleep(0.1)
            os.ftruncate(fd, 0)  # their pids are history now
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing drops the flock
            self._fd = -1

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_for_worker(folder: Path) -> int | None:
    """In a local worker: a shared lock on the workers file for the worker's whole life (the
    descriptor is kept open on purpose), with its pid appended for messages."""
    if fcntl is None:
        return None
    try:
        fd = os.open(folder / WORKERS_NAME, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_SH)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        return None
    return fd


def still_ours(folder: Path, run_id: str) -> bool:
    """True while the lock file names run ``run_id`` (a newer run has not taken the folder)."""
    try:
        fields = (folder / LOCK_NAME).read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return False
    return len(fields) >= 3 and fields[2] == run_id

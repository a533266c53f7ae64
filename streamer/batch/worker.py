"""A local worker process: takes recordings one at a time over its pipe, sends results back.

It lives only as long as its parent. ``kill -9`` of ser-batch used to leave its workers running
for minutes, still writing into the output folder a rerun was using. On Linux the kernel kills
the worker the moment its parent dies (``PR_SET_PDEATHSIG``); elsewhere, and as a second guard,
a thread checks twice a second that the parent is still there, and a closed pipe ends it too.
While alive it holds a shared lock on the folder's workers file, so a new run waits for it
(:mod:`streamer.batch.lock`).

Ctrl-C is ignored here (the parent decides: it lets the recordings in progress finish), BLAS,
OpenMP and onnxruntime run on one thread (set before numpy is first imported), and native
libraries' stderr chatter is kept off the terminal.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the worker imports them itself, after its environment is set
    from streamer.batch.inputs import Recording
    from streamer.batch.job import JobSpec

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
PR_SET_PDEATHSIG = 1
PARENT_CHECK_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make sure this process ends as soon as ``parent_pid`` (its parent) does."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _prepare(out_dir: Path, parent_pid: int) -> int | None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for key, value in ONE_THREAD.items():
        os.environ.setdefault(key, value)
    die_with_parent(parent_pid)
    from streamer.batch.lock import hold_for_worker
    from streamer.sources.native_stderr import NativeStderr

    NativeStderr.acquire()  # for the worker's lifetime
    return hold_for_worker(out_dir)  # kept open: the lock lasts as long as the process


def worker_main(conn: Connection, out_dir: str, parent_pid: int) -> None:
    """The worker's life: prepare, say ready, then (recording, spec) in, result out, until
    ``None`` comes or the parent is gone."""
    held = _prepare(Path(out_dir), parent_pid)
    from streamer.batch.job import warm_up

    warm_up()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break  # the parent is gone
        if task is None:
            break
        _serve(conn, *task)
    if held is not None:
        os.close(held)


def _serve(conn: Connection, recording: Recording, spec: JobSpec) -> None:
    from streamer.batch.job import ENVIRONMENT, RETRY, CallResult, FileState, run_one
    from streamer.errors import reason

    def progress(seconds: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            conn.send(("progress", recording.key, seconds))

    try:
        result = run_one(recording, spec, progress)
    except Exception as exc:  # noqa: BLE001 (e.g. the model cannot load here)
        result = CallResult(
            path=recording.key,
            status=RETRY,
            cause=ENVIRONMENT,
            error=f"worker error: {reason(exc)}",
            state=FileState.of(recording.path),
        )
    with contextlib.suppress(OSError, ValueError):  # else the parent is gone: no one to tell
        conn.send(("result", result))

"""The local engine: a pool of worker processes on this machine, each loading the model once.

Each worker runs one recording at a time with one thread (BLAS, OpenMP and onnxruntime), so N
workers use N cores and nothing is oversubscribed. Workers ignore Ctrl-C: the parent stops
handing out recordings and lets the ones in progress finish, so their outputs are whole.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from streamer.batch.inputs import Recording
from streamer.batch.job import ERROR, CallResult, FileState, JobSpec, run_one

ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(
    recordings: Sequence[Recording], spec: JobSpec, workers: int, stop: threading.Event
) -> Iterator[CallResult]:
    """Results as recordings finish. Once ``stop`` is set no new recording starts; the ones
    running finish. Closing the generator early (a second Ctrl-C) kills the workers."""
    # Spawned workers read these before numpy is imported (fork would inherit loaded libraries).
    for key, value in ONE_THREAD.items():
        os.environ.setdefault(key, value)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
    todo = iter(recordings)
    running: dict[Future[CallResult], Recording] = {}
    try:
        while True:
            while not stop.is_set() and len(running) < 2 * workers:
                recording = next(todo, None)
                if recording is None:
                    break
                running[pool.submit(run_one, recording, spec)] = recording
            if not running:
                return
            done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                yield _result(future, running.pop(future))
            if _broken(pool):  # a worker died: the recordings it held failed, go on
                pool.shutdown(wait=False)
                pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
    finally:
        if running:  # left early: do not wait for recordings in progress
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _broken(pool: ProcessPoolExecutor) -> bool:
    """True once a worker died; the executor then refuses work (its flag is not public API)."""
    return bool(getattr(pool, "_broken", False))


def _result(future: Future[CallResult], recording: Recording) -> CallResult:
    try:
        return future.result()
    except BrokenProcessPool:  # the worker died (killed, out of memory, a crash in a library)
        reason = "the worker process died while processing this recording"
    except Exception as exc:  # noqa: BLE001 (e.g. a result that could not be sent back)
        reason = f"worker error: {' '.join(str(exc).split()) or type(exc).__name__}"
    return CallResult(
        path=recording.key,
        status=ERROR,
        error=reason,
        state=FileState.of(recording.path),
        fingerprint="",  # not current: a rerun tries it again
    )

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
from streamer.batch.job import ERROR, CallResult, FileState, JobSpec, run_one, warm_up
from streamer.errors import reason

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
    """A worker process's entry point: it ignores Ctrl-C (the parent decides), runs BLAS,
    OpenMP and onnxruntime on one thread (set before numpy is first imported here), and keeps
    native libraries' stderr chatter off the terminal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for key, value in ONE_THREAD.items():
        os.environ.setdefault(key, value)
    from streamer.sources.native_stderr import NativeStderr

    NativeStderr.acquire()  # for the worker's lifetime


class LocalEngine:
    """``workers`` processes, started (and importing the pipeline) as soon as it is made, so
    they get ready while ser-batch itself checks the model and the outputs."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._start()
        self._used = False
        for _ in range(workers):
            self._pool.submit(warm_up)

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_init_worker)

    def results(
        self, recordings: Sequence[Recording], spec: JobSpec, stop: threading.Event
    ) -> Iterator[CallResult]:
        """Results as recordings finish. Once ``stop`` is set no new recording starts; the
        ones running finish. Closing the generator early (a second Ctrl-C) kills the workers."""
        self._used = True
        todo = iter(recordings)
        running: dict[Future[CallResult], Recording] = {}
        try:
            while True:
                while not stop.is_set() and len(running) < 2 * self.workers:
                    recording = next(todo, None)
                    if recording is None:
                        break
                    running[self._pool.submit(run_one, recording, spec)] = recording
                if not running:
                    return
                done, _ = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    yield _result(future, running.pop(future))
                if _broken(self._pool):  # a worker died: the recordings it held failed, go on
                    self._pool.shutdown(wait=False)
                    self._pool = self._start()
        finally:
            if running:  # left early: do not wait for the recordings in progress
                self.kill()

    def kill(self) -> None:
        processes = getattr(self._pool, "_processes", None) or {}  # no public API for this
        for process in list(processes.values()):
            process.terminate()

    def close(self) -> None:
        if not self._used:  # nothing to do after all (or a bad model): no need to wait
            self.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _broken(pool: ProcessPoolExecutor) -> bool:
    """True once a worker died; the executor then refuses work (its flag is not public API)."""
    return bool(getattr(pool, "_broken", False))


def _result(future: Future[CallResult], recording: Recording) -> CallResult:
    try:
        return future.result()
    except BrokenProcessPool:  # the worker died (killed, out of memory, a crash in a library)
        why = "the worker process died while processing this recording"
    except Exception as exc:  # noqa: BLE001 (e.g. a result that could not be sent back)
        why = f"worker error: {reason(exc)}"
    return CallResult(
        path=recording.key,
        status=ERROR,
        error=why,
        state=FileState.of(recording.path),
        fingerprint="",  # not current: a rerun tries it again
    )

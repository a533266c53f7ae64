"""The local engine: worker processes on this machine, each loading the model once and running
one recording at a time with one thread, so N workers use N cores and nothing is oversubscribed.

Each worker has its own pipe, so the parent always knows which recording a worker holds. A
worker that dies (killed, out of memory, a crash in a native library) costs exactly that
recording a ``retry`` row (the next run tries it again: the file was not shown to be the
cause); recordings not yet handed out simply go to the other workers or to a fresh one. (A
process pool's queue cannot tell which task died: every queued recording used to be blamed.)

Workers ignore Ctrl-C: the parent stops handing out recordings and lets the ones in progress
finish, so their outputs are whole. They die with the parent (:mod:`streamer.batch.worker`).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from streamer.batch.inputs import Recording
from streamer.batch.job import ENVIRONMENT, RETRY, CallResult, FileState, JobSpec
from streamer.batch.worker import worker_main
from streamer.errors import SerError

OnProgress = Callable[[str, float], None]  # (recording key, audio seconds read so far)
STARTUP_DEATHS = 3  # workers dying before they are ready, in a row, before giving up


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class WorkersFailed(SerError):
    """Worker processes cannot be started here (they die as they start)."""


@dataclass
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    ready: bool = False
    recording: Recording | None = None
    gone: bool = False


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = "; out of memory?" if -exitcode == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit code {exitcode}"


class LocalEngine:
    """``workers`` processes writing into ``out_dir``, started (and importing the pipeline) as
    soon as it is made, so they get ready while ser-batch itself checks the model."""

    def __init__(self, workers: int, out_dir: Path) -> None:
        self.workers = workers
        self.out_dir = out_dir
        self._context = multiprocessing.get_context("spawn")
        self._startup_deaths = 0
        self._used = False
        self._pool = [self._start() for _ in range(workers)]

    def _start(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=worker_main,
            args=(theirs, str(self.out_dir), os.getpid()),
            name="ser-batch-worker",
            daemon=True,
        )
        process.start()  # from this (the main) thread: the parent-death signal is tied to it
        theirs.close()
        return _Worker(process, ours)

    def results(
        self,
        recordings: Sequence[Recording],
        spec: JobSpec,
        stop: threading.Event,
        on_progress: OnProgress | None = None,
    ) -> Iterator[CallResult]:
        """Results as recordings finish. Once ``stop`` is set no new recording starts; the
        ones running finish. Closing the generator early (a second Ctrl-C) kills the workers."""
        todo = deque(recordings)
        self._used = True
        try:
            while True:
                if not stop.is_set():
                    self._hand_out(todo, spec)
                if not any(w.recording for w in self._pool) and (stop.is_set() or not todo):
                    return
                yield from self._collect(on_progress, replace=not stop.is_set())
        finally:
            if any(w.recording for w in self._pool):  # left early: do not wait for them
                self.kill()

    def _hand_out(self, todo: deque[Recording], spec: JobSpec) -> None:
        for worker in self._pool:
            if todo and worker.ready and worker.recording is None and not worker.gone:
                recording = todo.popleft()
                try:
                    worker.conn.send((recording, spec))
                except (OSError, ValueError):  # it died just now: the recording goes back
                    todo.appendleft(recording)
                    worker.gone = True
                else:
                    worker.recording = recording

    def _collect(self, on_progress: OnProgress | None, replace: bool) -> Iterator[CallResult]:
        """Wait up to 0.2 s for messages and deaths; yield the results that came."""
        live = [w for w in self._pool if not w.gone]
        wait([w.conn for w in live] + [w.process.sentinel for w in live], timeout=0.2)
        for worker in list(self._pool):
            if not worker.gone:
                yield from self._read(worker, on_progress)
            if worker.gone or not worker.process.is_alive():
                yield from self._buried(worker, replace)

    def _read(self, worker: _Worker, on_progress: OnProgress | None) -> Iterator[CallResult]:
        try:
            while worker.conn.poll():
                kind, *payload = worker.conn.recv()
                if kind == "ready":
                    worker.ready = True
                    self._startup_deaths = 0
                elif kind == "progress" and on_progress is not None:
                    on_progress(*payload)
                elif kind == "result":
                    worker.recording = None
                    yield payload[0]
        except (EOFError, OSError, pickle.UnpicklingError):
            worker.gone = True

    def _buried(self, worker: _Worker, replace: bool) -> Iterator[CallResult]:
        """A dead worker: blame the recording it held (only that one), start another."""
        worker.gone = True
        worker.process.join(timeout=1.0)
        how = _death(worker.process.exitcode)
        self._pool.remove(worker)
        worker.conn.close()
        if worker.recording is not None:
            recording = worker.recording
            yield CallResult(
                path=recording.key,
                status=RETRY,
                cause=ENVIRONMENT,
                error=f"the worker process died while processing this recording ({how})",
                state=FileState.of(recording.path),
            )
        elif not worker.ready:
            self._startup_deaths += 1
            if self._startup_deaths >= STARTUP_DEATHS:
                raise WorkersFailed(f"worker processes die as they start ({how})")
        if replace:
            self._pool.append(self._start())

    def kill(self) -> None:
        for worker in self._pool:
            if worker.process.is_alive():
                worker.process.kill()

    def close(self) -> None:
        """Let idle workers leave; kill any still busy (a second Ctrl-C), and all of them when
        there was nothing to do after all (no need to wait for them to get ready)."""
        for worker in self._pool:
            if worker.recording is not None or not self._used:
                worker.process.kill()
            else:
                try:
                    worker.conn.send(None)
                except (OSError, ValueError):
                    worker.process.kill()
        for worker in self._pool:
            worker.process.join(timeout=5.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5.0)
            worker.conn.close()

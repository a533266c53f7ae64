"""The Dask engine: the same job, run by the workers of an existing ``dask.distributed`` cluster.

Workers need ser-live installed (the same version, with its model file at the same path or the
model given by a path they share) and must see the inputs and the output folder at the paths
this machine uses. Each worker thread loads the model once.

A scheduler that goes away mid-run (killed, restarted, the network lost) ends the run with one
line (:class:`SchedulerLost`, exit 1): the recordings finished so far are recorded, the others
are not marked at all, and running the same command again resumes. distributed's own log
lines and tracebacks about the lost connection are kept off the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError

from streamer.batch.inputs import Recording
from streamer.batch.job import ENVIRONMENT, RETRY, CallResult, FileState, JobSpec, run_one
from streamer.errors import SerError, UsageError, reason

NEEDS_DISTRIBUTED = (
    "--scheduler needs dask.distributed; install it with: pip install 'ser-live[cluster]'"
)
CLOSE_TIMEOUT_S = 5.0
_NOISY = ("distributed", "tornado", "asyncio")


class ClusterError(UsageError):
    """The cluster cannot be used: the message is one line for the user."""


class SchedulerLost(SerError):
    """The scheduler went away mid-run (exit 1); a rerun resumes."""


def _quiet_distributed() -> None:
    """distributed logs the lost connection with tracebacks; the run says it in one line."""
    names = [name for name in logging.root.manager.loggerDict if name.startswith(_NOISY)]
    for name in {*names, *_NOISY}:  # each: distributed sets levels on its own sub-loggers
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


class DaskEngine:
    """A client of the scheduler at ``address``; connecting is the first thing ser-batch does,
    so a wrong address fails at once."""

    def __init__(self, address: str, connect_timeout_s: float = 15.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(NEEDS_DISTRIBUTED) from None
        self.address = address
        _quiet_distributed()
        try:
            self._client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from None

    def results(
        self,
        recordings: Sequence[Recording],
        spec: JobSpec,
        stop: threading.Event,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> Iterator[CallResult]:
        """Results as recordings finish on the cluster; after ``stop`` no new one starts.
        (Workers elsewhere report no progress within a recording.)"""
        from distributed import as_completed

        client = self._client
        # One task per recording; pure=False: the same inputs are never taken from a cache.
        futures = client.map(run_one, list(recordings), spec=spec, pure=False, retries=1)
        owner = dict(zip(futures, recordings, strict=True))
        seen = set()
        try:
            for future in as_completed(futures, loop=client.loop):
                seen.add(future.key)
                yield self._result(future, owner[future])
                if stop.is_set():
                    break
            if stop.is_set():  # no new recordings; those already finished still count
                finished = [f for f in futures if f.status == "finished" and f.key not in seen]
                for done in finished:
                    yield self._result(done, owner[done])
        finally:
            if self._client.status == "running":
                client.cancel([f for f in futures if f.status == "pending"])

    def _result(self, future: object, recording: Recording) -> CallResult:
        try:
            return future.result()  # type: ignore[attr-defined]
        except CancelledError as exc:
            if self._client.status != "running" or "connection-lost" in str(exc):
                raise SchedulerLost(
                    f"lost the Dask scheduler at {self.address} mid-run; the recordings "
                    "finished so far are recorded, run the same command again to resume"
                ) from None
            why = f"cluster error: {reason(exc)}"
        except Exception as exc:  # noqa: BLE001 (a worker lost or killed: that recording failed)
            why = f"cluster error: {reason(exc)}"
        return CallResult(
            path=recording.key,
            status=RETRY,
            cause=ENVIRONMENT,
            error=why,
            state=FileState.of(recording.path),
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a lost scheduler cannot be said goodbye to
            self._client.close(timeout=CLOSE_TIMEOUT_S)

"""The Dask engine: the same job, run by the workers of an existing ``dask.distributed`` cluster.

Workers need ser-live installed (the same version, with its model file at the same path or the
model given by a path they share) and must see the inputs and the output folder at the paths
this machine uses. Each worker thread loads the model once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from streamer.batch.inputs import Recording
from streamer.batch.job import ERROR, CallResult, FileState, JobSpec, run_one
from streamer.errors import UsageError, reason

NEEDS_DISTRIBUTED = (
    "--scheduler needs dask.distributed; install it with: pip install 'ser-live[cluster]'"
)


class ClusterError(UsageError):
    """The cluster cannot be used: the message is one line for the user."""


class DaskEngine:
    """A client of the scheduler at ``address``; connecting is the first thing ser-batch does,
    so a wrong address fails at once."""

    def __init__(self, address: str, connect_timeout_s: float = 15.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ClusterError(NEEDS_DISTRIBUTED) from None
        try:
            self._client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from None

    def results(
        self, recordings: Sequence[Recording], spec: JobSpec, stop: threading.Event
    ) -> Iterator[CallResult]:
        """Results as recordings finish on the cluster; after ``stop`` no new one starts."""
        from distributed import as_completed

        client = self._client
        # One task per recording; pure=False: the same inputs are never taken from a cache.
        futures = client.map(run_one, list(recordings), spec=spec, pure=False, retries=1)
        owner = dict(zip(futures, recordings, strict=True))
        seen = set()
        try:
            for future in as_completed(futures, loop=client.loop):
                seen.add(future.key)
                yield _result(future, owner[future])
                if stop.is_set():
                    break
            if stop.is_set():  # no new recordings; those already finished still count
                finished = [f for f in futures if f.status == "finished" and f.key not in seen]
                for done in finished:
                    yield _result(done, owner[done])
        finally:
            client.cancel([f for f in futures if f.status == "pending"])

    def close(self) -> None:
        self._client.close()


def _result(future: object, recording: Recording) -> CallResult:
    try:
        return future.result()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 (a worker lost or killed: that recording failed)
        return CallResult(
            path=recording.key,
            status=ERROR,
            error=f"cluster error: {reason(exc)}",
            state=FileState.of(recording.path),
            fingerprint="",  # not current: a rerun tries it again
        )

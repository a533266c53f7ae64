"""A session's inference: a bounded queue of work drained by one task, each step run on the
server's thread pool, so the event loop never classifies and a session's calls stay serial.

A step waits for ``min_step_s`` of audio (or that long) before it starts: a hand-over to the
pool costs more than the engine's work on a 20 ms frame, so three such frames make one step
(at most 60 ms more latency, by default). Frames that queued up while the previous step ran
are fed together in one step too; of the provisional results a step makes, only the newest of
each channel is kept (the others are merged away and counted), and with more than
``BEHIND_S`` of audio waiting the engine makes none at all (their cost goes to catching up).
Finals are never dropped. A full queue makes the reader wait, which stops reading the socket:
TCP pushes back on a client that sends faster than it is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from streamer.engine.emotion_stream import EmotionStream
from streamer.results import Prediction
from streamer.serve.metrics import Metrics

BEHIND_S = 1.0  # with more audio than this waiting, a step makes no partial results


@dataclass(frozen=True)
class Work:
    kind: str  # "audio", "flush" or "stop"
    samples: np.ndarray | None = None
    seconds: float = 0.0
    classify: bool = True  # "stop": classify the utterance in progress
    received: float = field(default_factory=time.monotonic)  # when it was queued


@dataclass
class Step:
    """What one step gave: results in stream order, the utterances that started."""

    results: list[Prediction]
    started: list[tuple[int | None, float]]  # (channel, start_s)
    trigger: str  # of the finals: "vad", "flush" or "stop"
    partials_dropped: int = 0
    queued_ms: float = 0.0  # how long the step's first frame waited for it
    behind: bool = False  # so much audio waited that partial results were not made


class Lane:
    def __init__(
        self,
        stream: EmotionStream,
        pool: Executor,
        metrics: Metrics,
        on_step: Callable[[Step], None],
        limit: int,
        on_failure: Callable[[BaseException], None] | None = None,
        min_step_s: float = 0.0,
    ) -> None:
        self.stream, self.pool, self.metrics = stream, pool, metrics
        self.on_step, self.on_failure = on_step, on_failure
        self.limit = limit
        self.min_step_s = min_step_s  # audio a step waits for (at most this long)
        self._paused = False  # partial results skipped: more than BEHIND_S of audio waits
        self.failed: BaseException | None = None
        self.queue: deque[Work] = deque()
        self.backlog_s = 0.0
        self._changed = asyncio.Condition()
        self._in_speech: dict[int | None, bool] = {}
        self.task = asyncio.create_task(self._run())

    async def put(self, work: Work) -> None:
        """Queue ``work``; audio waits while the queue is full, flush and stop never do."""
        async with self._changed:
            if work.kind == "audio":
                await self._changed.wait_for(lambda: len(self.queue) < self.limit)
                self.backlog_s += work.seconds
            self.queue.append(work)
            self._changed.notify_all()

    def _step_ready(self) -> bool:
        """Enough audio for a step, a control message waiting, or a full queue (tiny frames)."""
        return (self.backlog_s >= self.min_step_s or len(self.queue) >= self.limit
                or any(w.kind != "audio" for w in self.queue))

    async def _take(self) -> list[Work]:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self.queue))
            if not self._step_ready():  # a few frames more make one step, not one each
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(self._step_ready),
                                           self.min_step_s)
            batch = [self.queue.popleft()]
            while batch[0].kind == "audio" and self.queue and self.queue[0].kind == "audio":
                batch.append(self.queue.popleft())
            self.backlog_s -= sum(w.seconds for w in batch)
            self._changed.notify_all()
            return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._take()
            try:
                step = await loop.run_in_executor(self.pool, self._step, batch)
            except Exception as exc:  # noqa: BLE001 (the session ends with 1011, said once)
                self.failed = exc
                async with self._changed:
                    self.queue.clear()
                    self.limit = 10**9  # a reader waiting for room must not wait for ever
                    self._changed.notify_all()
                if self.on_failure is not None:
                    self.on_failure(exc)
                return
            self.on_step(step)
            if batch[0].kind == "stop":
                return

    def _step(self, batch: list[Work]) -> Step:
        """In a pool thread: one call into the engine."""
        began = time.perf_counter()
        waited_ms = 1000 * (time.monotonic() - batch[0].received)
        work = batch[0]
        if work.kind == "audio":
            block = np.concatenate([w.samples for w in batch if w.samples is not None])
            behind = sum(w.seconds for w in batch) + self.backlog_s > BEHIND_S
            if behind != self._paused:
                self.stream.pause_partials(behind)
                self._paused = behind
            step = Step(self.stream.feed(block), [], "vad", behind=behind)
        elif work.kind == "flush":
            step = Step(self.stream.close_utterance(), [], "flush")
        else:
            step = Step(self.stream.finish(classify_pending=work.classify), [], "stop")
        self.metrics.observe_inference(time.perf_counter() - began)
        step.started = self._speech_started()
        step.queued_ms = waited_ms
        step.results, step.partials_dropped = newest_partials(step.results)
        return step

    def _speech_started(self) -> list[tuple[int | None, float]]:
        started = []
        for channel_stream in self.stream.streams:
            seg = channel_stream.segmenter
            was = self._in_speech.get(channel_stream.channel, False)
            if seg.in_speech and not was:
                started.append((channel_stream.channel, seg.position_s - seg.pending_s))
            self._in_speech[channel_stream.channel] = seg.in_speech
        return started


def newest_partials(results: list[Prediction]) -> tuple[list[Prediction], int]:
    """``results`` with only the last provisional result of each channel that no final of
    that channel follows; and how many were dropped."""
    keep: list[Prediction] = []
    dropped = 0
    for k, result in enumerate(results):
        later = results[k + 1 :]
        if not result.final and any(r.channel == result.channel for r in later):
            dropped += 1
            continue
        keep.append(result)
    return keep, dropped

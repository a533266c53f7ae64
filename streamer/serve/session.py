"""One ``/v1/stream`` connection: wait for ``start``, feed binary frames to its own
:class:`~streamer.EmotionStream` through a :class:`~streamer.serve.inference.Lane`, answer
control messages, and end with the remaining finals, ``session.closed`` and a close code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from streamer.errors import reason
from streamer.serve import codes, events
from streamer.serve.audio import decode, frame_bytes
from streamer.serve.codes import ProtocolError
from streamer.serve.inference import Lane, Step, Work
from streamer.serve.limits import MAX_FRAME_S, Pace
from streamer.serve.outbox import Outbox
from streamer.serve.protocol import StartConfig, message_type, parse_start

if TYPE_CHECKING:
    from streamer.engine.emotion_stream import EmotionStream
    from streamer.serve.server import Server


log = logging.getLogger("ser_serve")


async def close_socket(ws: ServerConnection, code: int, reason: str) -> None:
    """Close with ``code``, reading (and dropping) what the client still sends meanwhile: a
    client that sent far ahead has frames queued before its close frame, and an unread queue
    would hold the close up for the whole close timeout."""

    async def discard() -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.recv()

    reader = asyncio.create_task(discard())
    await ws.close(code, reason[:100])
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader


@dataclass
class Ending:
    reason: str  # "stop", "gone", "shutdown", or an error code
    close: int = codes.NORMAL
    error: ProtocolError | None = None
    classify: bool = True  # classify the utterance in progress


@dataclass
class Counts:
    audio_s: float = 0.0
    utterances: int = 0
    partials_sent: int = 0
    partials_dropped: int = 0


def internal() -> Ending:
    error = ProtocolError("internal", "the server failed on this stream", codes.INTERNAL)
    return Ending("internal", codes.INTERNAL, error)


def ending_of(receiver: asyncio.Task[Ending], failure: BaseException | None, name: str
              ) -> Ending:
    """How a session ends, from its receiving task: what it returned, a shutdown (cancelled),
    or an internal failure (of the engine, or a bug: logged with its traceback, never sent)."""
    if failure is not None:
        return internal()
    if receiver.cancelled():
        return Ending("shutdown", codes.GOING_AWAY)
    exc = receiver.exception()
    if exc is not None:
        log.error("session %s failed", name, exc_info=exc)
        return internal()
    return receiver.result()


class StreamSession:
    def __init__(self, server: Server, ws: ServerConnection) -> None:
        self.server, self.ws = server, ws
        self.id = uuid.uuid4().hex[:12]
        self.opened = time.monotonic()
        self.counts = Counts()
        self.config: StartConfig | None = None
        self.stream: EmotionStream | None = None
        self.lane: Lane | None = None
        self.outbox = Outbox(ws.send, self._sent)
        self.receiver: asyncio.Task[Ending] | None = None
        self.shutdown = False
        self.failure: BaseException | None = None
        self.warned = False  # "behind" is said once

    # --- the whole session ---------------------------------------------------------------

    async def run(self) -> None:
        self.receiver = asyncio.create_task(self._receive())
        await asyncio.wait({self.receiver})
        await self._end(ending_of(self.receiver, self.failure, self.id))

    def _failed(self, exc: BaseException) -> None:
        """The engine raised: the session ends with 1011 (the reason is logged, not sent)."""
        log.error("session %s: inference failed: %s", self.id, reason(exc))
        self.failure = exc
        if self.receiver is not None and not self.receiver.done():
            self.receiver.cancel()

    def stop_for_shutdown(self) -> None:
        """SIGTERM: stop reading; the session ends with its finals and 1001."""
        self.shutdown = True
        if self.receiver is not None and not self.receiver.done():
            self.receiver.cancel()

    async def _receive(self) -> Ending:
        try:
            while True:
                timeout = self._timeout()
                if timeout <= 0:
                    return self._fatal(ProtocolError(
                        "max_duration", "the session reached its maximum duration",
                        codes.MAX_DURATION))
                try:
                    message = await asyncio.wait_for(self.ws.recv(), timeout)
                except asyncio.TimeoutError:
                    if self._timeout() <= 0:
                        continue  # the duration limit, said at the top of the loop
                    return self._fatal(ProtocolError(
                        "idle", f"no message for {self.server.limits.idle_s:g} s", codes.IDLE))
                ending = await self._handle(message)
                if ending is not None:
                    return ending
        except ConnectionClosed:
            return Ending("gone", classify=False)

    def _timeout(self) -> float:
        limits = self.server.limits
        left = self.opened + limits.max_duration_s - time.monotonic()
        return min(limits.idle_s, left) if left > 0 else 0.0

    def _fatal(self, error: ProtocolError) -> Ending:
        return Ending(error.code, error.close or codes.INTERNAL, error)

    async def _handle(self, message: str | bytes) -> Ending | None:
        try:
            if isinstance(message, bytes):
                await self._audio(message)
                return None
            return await self._text(message)
        except ProtocolError as error:
            if error.fatal:
                return self._fatal(error)
            self.outbox.push(events.error(error.code, error.message, None))
            return None

    # --- messages ------------------------------------------------------------------------

    async def _text(self, text: str) -> Ending | None:
        kind, message = message_type(text)
        if kind == "start":
            if self.config is not None:
                raise ProtocolError("config_after_start",
                                    "a second start: the stream's configuration is fixed",
                                    codes.POLICY)
            await self._start(parse_start(message))
        elif kind == "keepalive":
            pass
        elif kind == "stop":
            return Ending("stop")
        elif kind == "flush":
            if self.lane is not None:
                await self.lane.put(Work("flush"))
        else:
            raise ProtocolError("unknown_type", f"unknown message type {kind[:40]!r}; ignored")
        return None

    async def _start(self, config: StartConfig) -> None:
        loop = asyncio.get_running_loop()
        self.stream = await loop.run_in_executor(self.server.pool, self.server.new_stream, config)
        self.config = config
        self.pace = Pace(self.server.limits.max_speed, self.server.limits.burst_s)
        self.lane = Lane(self.stream, self.server.pool, self.server.metrics, self._on_step,
                         self.server.limits.queue_frames, self._failed,
                         self.server.limits.min_step_s)
        self.outbox.push(self.server.started_event(self.id, config, self.stream))

    async def _audio(self, frame: bytes) -> None:
        config = self.config
        if config is None or self.lane is None:
            raise ProtocolError("audio_before_start", "audio before the start message",
                                codes.POLICY)
        width = frame_bytes(config.encoding, config.audio_channels)
        if len(frame) > MAX_FRAME_S * config.sample_rate * width:
            raise ProtocolError("frame_too_big", f"a frame over {MAX_FRAME_S:g} s of audio",
                                codes.TOO_BIG)
        samples = decode(frame, config.encoding, config.audio_channels)
        seconds = len(samples) / config.sample_rate
        self.pace.add(seconds, time.monotonic())
        self.counts.audio_s += seconds
        self.server.metrics.add("ser_audio_seconds_total", seconds)
        await self.lane.put(Work("audio", samples, seconds))

    # --- results -------------------------------------------------------------------------

    def _on_step(self, step: Step) -> None:
        assert self.config is not None and self.stream is not None
        offset = self.config.offset_ms
        for channel, start_s in step.started:
            self.outbox.push(events.speech_started(start_s, offset, channel))
        self.counts.partials_dropped += step.partials_dropped
        if (step.partials_dropped or step.behind) and not self.warned:
            self.warned = True
            self.outbox.push(events.warning(
                "behind",
                "the server is behind on this stream: partial results are merged or skipped"))
        threshold = self.stream.uncertain_below
        for result in step.results:
            if not result.final and not self.config.partials:
                continue
            self.outbox.push(events.result_event(result, threshold, offset, step.trigger,
                                                 queued_ms=step.queued_ms))
            if result.final:
                self.counts.utterances += 1
                self.server.metrics.add("ser_utterances_total")
        self.server.metrics.add("ser_partials_dropped_total", step.partials_dropped)

    def _sent(self, event: dict[str, Any]) -> None:
        if event["type"] == "partial":
            self.counts.partials_sent += 1
        self.server.observe(self.id, event)

    # --- the end -------------------------------------------------------------------------

    async def _end(self, ending: Ending) -> None:
        limits = self.server.limits
        if self.lane is not None:
            if ending.reason in ("gone", "internal"):
                self.lane.task.cancel()
            else:
                await self.lane.put(Work("stop", classify=ending.classify))
                try:
                    await asyncio.wait_for(asyncio.shield(self.lane.task), limits.drain_s)
                except asyncio.TimeoutError:
                    self.lane.task.cancel()
        if ending.reason != "gone":
            error = ending.error
            if error is not None:
                self.outbox.push(events.error(error.code, error.message, error.close))
            dropped = self.counts.partials_dropped + self.outbox.partials_merged
            self.outbox.push(events.closed(ending.reason, round(self.counts.audio_s * 1000),
                                           self.counts.utterances, dropped))
        await self.outbox.close(limits.drain_s)
        await close_socket(self.ws, ending.close, ending.reason)
        self.server.log_session(self, ending)

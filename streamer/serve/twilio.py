"""Twilio Media Streams at ``/v1/twilio``: Twilio's ``connected``/``start``/``media``/``stop``
messages, base64 μ-law at 8 kHz, one stream per track (``inbound``: the caller, ``outbound``:
the agent). Twilio's socket takes no events back, so the call's events go to whoever watches
it: a WebSocket at ``/v1/events?call=<CallSid>`` (or ``?stream=<StreamSid>``; the events so
far first, then live), and a webhook (``--twilio-webhook URL``: each final and session event
POSTed as JSON)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.exceptions import ConnectionClosed

from streamer.serve import codes, events
from streamer.serve.audio import MULAW_TO_INT16
from streamer.serve.codes import ProtocolError
from streamer.serve.inference import Lane, Step, Work
from streamer.serve.limits import Pace
from streamer.serve.outbox import Outbox
from streamer.serve.protocol import StartConfig, read_json
from streamer.serve.session import Counts, Ending, close_socket, ending_of

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from streamer.serve.server import Server

RATE = 8000
MAX_GAP_S = 10.0  # a jump in Twilio's timestamps is filled with at most this much silence
KEEP_EVENTS = 2000  # events of a call kept for a watcher who connects late
KEEP_ENDED_S = 300.0  # an ended call's events stay this long
MAX_WATCHERS = 16  # event sockets per call


@dataclass
class CallLog:
    events: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))
    watchers: set[asyncio.Queue[dict[str, Any] | None]] = field(default_factory=set)
    ended: float | None = None


class EventHub:
    """Events of Twilio calls, by CallSid and StreamSid, for their watchers."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.calls: dict[str, CallLog] = {}
        # One thread: the webhook gets a call's events in their order, and a slow webhook
        # holds up only itself.
        self.poster = ThreadPoolExecutor(1, thread_name_prefix="ser-webhook")

    def open(self, keys: list[str]) -> CallLog:
        now = time.monotonic()
        for key in [k for k, c in self.calls.items() if c.ended and now - c.ended > KEEP_ENDED_S]:
            del self.calls[key]
        log = CallLog()
        for key in keys:
            self.calls[key] = log
        return log

    async def publish(self, log: CallLog, event: dict[str, Any]) -> None:
        log.events.append(event)
        for queue in log.watchers:
            queue.put_nowait(event)
        if event["type"] == "session.closed":
            log.ended = time.monotonic()
            for queue in log.watchers:
                queue.put_nowait(None)
        url = self.server.twilio_webhook
        if url and event["type"] != "partial":
            asyncio.get_running_loop().run_in_executor(self.poster, self._post, url, event)

    def _post(self, url: str, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode("utf-8")
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (the operator's URL)
                pass
        except (OSError, ValueError):
            self.server.metrics.add("ser_webhook_failures_total")

    async def subscribe(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        key = (query.get("call") or query.get("stream") or [""])[0]
        log = self.calls.get(key)
        if log is None:
            error = events.error("unknown_call", "no such call (yet)", codes.POLICY)
            await ws.send(events.dumps(error))
            await ws.close(codes.POLICY, "unknown call")
            return
        if len(log.watchers) >= MAX_WATCHERS:
            error = events.error("overloaded", "too many watchers of this call", codes.OVERLOADED)
            await ws.send(events.dumps(error))
            await ws.close(codes.OVERLOADED, "too many watchers")
            return
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        for event in list(log.events):
            queue.put_nowait(event)
        if log.ended is not None:
            queue.put_nowait(None)
        log.watchers.add(queue)
        try:
            while (event := await queue.get()) is not None:
                await ws.send(events.dumps(event))
            await ws.close(codes.NORMAL, "call ended")
        except ConnectionClosed:
            pass
        finally:
            log.watchers.discard(queue)


class Track:
    """One side of the call: its lane and how much audio it has had."""

    def __init__(self, name: str, lane: Lane) -> None:
        self.name, self.lane = name, lane
        self.samples = 0

    async def media(self, payload: bytes, timestamp_ms: int | None) -> float:
        """Queue a chunk (after silence for any gap in Twilio's timestamps); its seconds."""
        pcm = MULAW_TO_INT16[np.frombuffer(payload, dtype=np.uint8)]
        if timestamp_ms is not None:
            gap = min(timestamp_ms * RATE // 1000 - self.samples, int(MAX_GAP_S * RATE))
            if gap > RATE // 25:  # more than 40 ms missing
                pcm = np.concatenate([np.zeros(gap, np.int16), pcm])
        self.samples += len(pcm)
        await self.lane.put(Work("audio", pcm.reshape(-1, 1), len(pcm) / RATE))
        return len(pcm) / RATE


class TwilioSession:
    """One Twilio Media Stream (one call): a stream per track, events to the call's watchers."""

    def __init__(self, server: Server, ws: ServerConnection) -> None:
        self.server, self.ws = server, ws
        self.id = "twilio"
        self.opened = time.monotonic()
        self.counts = Counts()
        self.tracks: dict[str, Track] = {}
        self.log: CallLog | None = None
        self.receiver: asyncio.Task[Ending] | None = None
        self.outbox = Outbox(self._publish, self._sent)
        self.pace = Pace(server.limits.max_speed, server.limits.burst_s)

    async def _publish(self, text: str) -> None:
        if self.log is not None:
            await self.server.hub.publish(self.log, json.loads(text))

    def _sent(self, event: dict[str, Any]) -> None:
        self.server.observe(self.id, event)

    def stop_for_shutdown(self) -> None:
        if self.receiver is not None and not self.receiver.done():
            self.receiver.cancel()

    async def run(self) -> None:
        self.receiver = asyncio.create_task(self._receive())
        await asyncio.wait({self.receiver})
        await self._end(ending_of(self.receiver, None, self.id))

    async def _receive(self) -> Ending:
        limits = self.server.limits
        try:
            while True:
                left = self.opened + limits.max_duration_s - time.monotonic()
                if left <= 0:
                    return Ending("max_duration", codes.MAX_DURATION)
                try:
                    message = await asyncio.wait_for(self.ws.recv(), min(left, limits.idle_s))
                except asyncio.TimeoutError:
                    if self.opened + limits.max_duration_s > time.monotonic():
                        return Ending("idle", codes.IDLE)
                    continue
                if isinstance(message, bytes):
                    return Ending("binary_frame", codes.POLICY)
                try:
                    if await self._message(read_json(message)):
                        return Ending("stop")
                except ProtocolError as error:
                    if error.fatal:
                        return Ending(error.code, error.close or codes.POLICY, error)
                    self.server.metrics.add("ser_twilio_ignored_messages_total")
        except ConnectionClosed:
            return Ending("gone")  # Twilio hung up without "stop": the call's finals still count

    async def _message(self, message: dict[str, Any]) -> bool:
        """Handle one of Twilio's messages; True at ``stop``."""
        kind = message.get("event")
        if kind == "start":
            await self._start(message)
        elif kind == "media":
            await self._media(message.get("media"))
        elif kind == "stop":
            return True
        return False  # connected, mark, dtmf: nothing to do

    async def _start(self, message: dict[str, Any]) -> None:
        if self.tracks:
            raise ProtocolError("config_after_start", "a second start", codes.POLICY)
        start = message.get("start")
        if not isinstance(start, dict):
            raise ProtocolError("invalid_start", "start without its \"start\" object", codes.POLICY)
        media_format = start.get("mediaFormat") or {}
        if media_format.get("encoding", "audio/x-mulaw") != "audio/x-mulaw" or int(
            media_format.get("sampleRate", RATE)) != RATE:
            raise ProtocolError("invalid_start", "only audio/x-mulaw at 8000 Hz", codes.POLICY)
        self.call_sid = str(start.get("callSid", ""))[:64]
        self.stream_sid = str(message.get("streamSid") or start.get("streamSid") or "")[:64]
        self.id = self.stream_sid or self.id
        self.log = self.server.hub.open([k for k in (self.call_sid, self.stream_sid) if k])
        tracks = start.get("tracks") or ["inbound"]
        for name in [str(t) for t in tracks if t in ("inbound", "outbound")] or ["inbound"]:
            self.tracks[name] = Track(name, await self._lane(name))
        self.outbox.push({"type": "session.started", "session_id": self.id,
                          "call_sid": self.call_sid, "stream_sid": self.stream_sid,
                          "tracks": list(self.tracks), "labels": list(self.labels)})

    async def _lane(self, track: str) -> Lane:
        config = StartConfig("mulaw", RATE, 1, "mix", True)
        loop = asyncio.get_running_loop()
        stream = await loop.run_in_executor(self.server.pool, self.server.new_stream, config)
        self.labels = stream.labels
        threshold = stream.uncertain_below

        def on_step(step: Step) -> None:
            self._on_step(step, track, threshold)

        return Lane(stream, self.server.pool, self.server.metrics, on_step,
                    self.server.limits.queue_frames, min_step_s=self.server.limits.min_step_s)

    async def _media(self, media: object) -> None:
        if not isinstance(media, dict) or media.get("track", "inbound") not in self.tracks:
            raise ProtocolError("bad_media", "media for no started track; ignored")
        try:
            payload = base64.b64decode(str(media.get("payload", "")), validate=True)
            stamp = media.get("timestamp")
            timestamp = int(stamp) if stamp is not None else None
        except (binascii.Error, ValueError):
            raise ProtocolError("bad_media", "media that is not base64 μ-law; ignored") from None
        self.pace.add(len(payload) / RATE / len(self.tracks), time.monotonic())
        seconds = await self.tracks[str(media.get("track", "inbound"))].media(payload, timestamp)
        self.counts.audio_s += seconds
        self.server.metrics.add("ser_audio_seconds_total", seconds)

    def _on_step(self, step: Step, track: str, threshold: float) -> None:
        for _, start_s in step.started:
            self.outbox.push({**events.speech_started(start_s, 0, None), "track": track})
        self.counts.partials_dropped += step.partials_dropped
        for result in step.results:
            self.outbox.push(events.result_event(result, threshold, 0, step.trigger, track,
                                                 step.queued_ms))
            if result.final:
                self.counts.utterances += 1
                self.server.metrics.add("ser_utterances_total")

    async def _end(self, ending: Ending) -> None:
        for track in self.tracks.values():
            await track.lane.put(Work("stop", classify=True))
        lanes = [t.lane.task for t in self.tracks.values()]
        if lanes:
            await asyncio.wait(lanes, timeout=self.server.limits.drain_s)
        if ending.error is not None:
            self.outbox.push(events.error(ending.error.code, ending.error.message,
                                          ending.close))
        dropped = self.counts.partials_dropped + self.outbox.partials_merged
        self.outbox.push(events.closed(ending.reason, round(self.counts.audio_s * 1000),
                                       self.counts.utterances, dropped))
        await self.outbox.close(self.server.limits.drain_s)
        if ending.reason != "gone":
            await close_socket(self.ws, ending.close, ending.reason)
        self.server.log_session(self, ending)

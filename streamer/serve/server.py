"""The server: one loaded model, a thread pool for inference, the sessions, and the routes.

``Server(...).serve(host, port)`` runs until :meth:`Server.drain` (SIGTERM): new connections are
refused (503, ``/readyz`` says "draining"), each session's remaining finals are made and sent,
then ``session.closed`` and close 1001.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve

from streamer.engine.emotion_stream import EmotionStream
from streamer.model.classifier import Classifier
from streamer.package import version
from streamer.serve import codes, events, http
from streamer.serve.auth import Access
from streamer.serve.limits import MAX_MESSAGE_BYTES, Limits
from streamer.serve.metrics import Metrics
from streamer.serve.protocol import StartConfig
from streamer.settings import Settings

if TYPE_CHECKING:
    from streamer.serve.session import Ending, StreamSession
    from streamer.serve.twilio import TwilioSession

log = logging.getLogger("ser_serve")
Observer = Callable[[str, dict[str, Any]], None]


class Server:
    def __init__(
        self,
        settings: Settings,
        classifier: Classifier,
        limits: Limits | None = None,
        access: Access | None = None,
        observer: Observer | None = None,
        twilio_webhook: str | None = None,
    ) -> None:
        self.settings, self.classifier = settings, classifier
        self.limits = limits or Limits()
        self.access = access or Access()
        self.observer = observer
        self.twilio_webhook = twilio_webhook
        self.metrics = Metrics()
        self.pool = ThreadPoolExecutor(self.limits.pool_size(), thread_name_prefix="ser-infer")
        self.sessions: set[Any] = set()
        self.draining = False
        self.stopped = asyncio.Event()
        from streamer.serve.twilio import EventHub

        self.hub = EventHub(self)
        self.metrics.gauges.update({
            "ser_sessions_active": lambda: len(self.sessions),
            "ser_backlog_seconds": self.backlog_s,
            "ser_draining": lambda: float(self.draining),
        })

    # --- what sessions ask of the server --------------------------------------------------

    def new_stream(self, config: StartConfig) -> EmotionStream:
        """A session's own stream (in a pool thread: a stream's VADs load models)."""
        return EmotionStream(
            self.classifier.for_new_stream(),
            settings=self.settings,
            sample_rate_hz=config.sample_rate,
            channels=config.channels if config.audio_channels > 1 else "mix",
            input_channels=config.audio_channels,
            partial_every_s=None if config.partials else 0.0,
        )

    def started_event(self, session_id: str, config: StartConfig, stream: EmotionStream
                      ) -> dict[str, Any]:
        info = self.classifier.info
        return {
            "type": "session.started",
            "session_id": session_id,
            "config": config.effective(),
            "labels": list(stream.labels),
            "uncertain_below": stream.uncertain_below,
            "model": {"name": self.classifier.path.name, "server_version": version(),
                      "sample_rate": info.sample_rate},
            "limits": self.limits.public(),
        }

    def observe(self, session_id: str, event: dict[str, Any]) -> None:
        if self.observer is not None:
            self.observer(session_id, event)

    def backlog_s(self) -> float:
        return sum(getattr(getattr(s, "lane", None), "backlog_s", 0.0) for s in self.sessions)

    def not_ready(self) -> str | None:
        if self.draining:
            return "draining"
        if len(self.sessions) >= self.limits.max_sessions:
            return "full"
        return None

    def log_session(self, session: StreamSession | TwilioSession, ending: Ending) -> None:
        """One line per session; never the token, the query string or metadata."""
        c = session.counts
        peer = session.ws.remote_address[0] if session.ws.remote_address else "?"
        path = urlsplit(session.ws.request.path).path if session.ws.request else "?"
        log.info(
            "session %s %s peer=%s reason=%s close=%d audio_s=%.1f utterances=%d "
            "partials_sent=%d partials_dropped=%d", session.id, path, peer, ending.reason,
            ending.close, c.audio_s, c.utterances, c.partials_sent,
            c.partials_dropped + session.outbox.partials_merged,
        )

    # --- connections ---------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        from streamer.serve.session import StreamSession
        from streamer.serve.twilio import TwilioSession

        path = urlsplit(ws.request.path).path if ws.request else ""
        if path == "/v1/events":
            await self.hub.subscribe(ws)
            return
        if self.not_ready():  # a race with the check before the upgrade
            why = self.not_ready() or ""
            await ws.send(events.dumps(events.error("overloaded", why, codes.OVERLOADED)))
            await ws.close(codes.OVERLOADED, why)
            return
        session = TwilioSession(self, ws) if path == "/v1/twilio" else StreamSession(self, ws)
        self.sessions.add(session)
        self.metrics.add("ser_sessions_total")
        try:
            await session.run()
        finally:
            self.sessions.discard(session)

    async def serve(self, host: str, port: int, ready: Callable[[int], None] | None = None
                    ) -> None:
        """Serve until :meth:`drain` is done; ``ready(port)`` once listening."""
        quiet = logging.getLogger("ser_serve.websockets")
        quiet.setLevel(logging.WARNING)  # its access lines would carry ?token=
        async with serve(
            self._handler, host, port,
            process_request=lambda conn, request: http.route(self, request),
            compression=None, max_size=MAX_MESSAGE_BYTES, logger=quiet,
            server_header=f"ser-serve/{version()}",
        ) as ws_server:
            if ready is not None:
                ready(ws_server.sockets[0].getsockname()[1])
            await self.stopped.wait()
            ws_server.close()  # what is left: events subscribers (1001)
            await ws_server.wait_closed()
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def drain(self) -> None:
        """Refuse new sessions, end every session cleanly (finals, session.closed, 1001)."""
        self.draining = True
        sessions = list(self.sessions)
        for session in sessions:
            session.stop_for_shutdown()
        deadline = self.limits.drain_s * 2
        for _ in range(int(deadline * 20)):
            if not self.sessions:
                break
            await asyncio.sleep(0.05)
        self.stopped.set()

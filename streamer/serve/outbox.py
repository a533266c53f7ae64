"""A session's outgoing events: finals and session events are never dropped; a provisional
result still waiting to be sent is replaced by a newer one of the same channel (merged and
counted), so a slow reader gets fewer partials, never stale ones, and never holds up others."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from streamer.serve.events import dumps

Send = Callable[[str], Awaitable[None]]


class Outbox:
    def __init__(self, send: Send, on_sent: Callable[[dict[str, Any]], None] | None = None):
        self._send = send
        self._on_sent = on_sent
        self._events: deque[dict[str, Any]] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self.partials_merged = 0
        self.broken = False  # the peer went away: nothing more is sent
        self._task = asyncio.create_task(self._run())

    def push(self, event: dict[str, Any]) -> None:
        if self._closed or self.broken:
            return
        if event["type"] == "partial":
            for k in range(len(self._events) - 1, -1, -1):
                waiting = self._events[k]
                if _key(waiting) != _key(event) or waiting["type"] not in ("partial", "final"):
                    continue
                if waiting["type"] == "final":
                    break  # a partial of the next utterance: after that final, not before
                self._events[k] = event  # the same place in the order, newer content
                self.partials_merged += 1
                return
        self._events.append(event)
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._events:
                event = self._events.popleft()
                try:
                    await self._send(dumps(event))
                except Exception:  # noqa: BLE001 (the connection is gone, whatever the reason)
                    self.broken = True
                    self._events.clear()
                    return
                if self._on_sent is not None:
                    self._on_sent(event)
            if self._closed:
                return

    async def close(self, timeout: float) -> None:
        """Send what is queued (for at most ``timeout`` s), then stop."""
        self._closed = True
        self._ready.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except asyncio.TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _key(event: dict[str, Any]) -> tuple[object, object]:
    """Partials replace each other per stream: a channel, or a Twilio track."""
    return event.get("channel"), event.get("track")

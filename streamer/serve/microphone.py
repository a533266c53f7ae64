"""``ser-client --mic``: the microphone (ser-live's :class:`~streamer.sources.mic.MicSource`,
the same device choice and ring buffer) streamed to a server until Ctrl-C, SIGTERM or
``--duration``; the blocks are read on a thread and handed to the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

FRAME_S = 0.1  # a block is sent in frames of at most this much audio


async def mic_frames(source: Any, stop: threading.Event) -> AsyncIterator[bytes]:
    """s16le frames of ``source``'s blocks until ``stop``; a lost device raises at the end,
    after everything it delivered was sent."""
    from streamer.serve.client import as_int16

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    failed: list[BaseException] = []
    step = max(1, int(source.rate_hz * FRAME_S))

    def pump() -> None:
        try:
            for block in source.blocks(stop):
                pcm = as_int16(block)
                for at in range(0, len(pcm), step):
                    loop.call_soon_threadsafe(queue.put_nowait, pcm[at : at + step].tobytes())
        except BaseException as exc:  # noqa: BLE001 (said by the caller, in one line)
            failed.append(exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="ser-client-mic", daemon=True).start()
    while (frame := await queue.get()) is not None:
        yield frame
    if failed:
        raise failed[0]

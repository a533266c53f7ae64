"""Many sessions at once each get exactly their own finals; a client that vanishes frees its
session; a reader that reads late still gets every final (partials may be merged)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import numpy as np
from serving import expected_finals, same_finals, wait_until
from websockets.asyncio.client import connect

from streamer.serve.client import stream_audio
from streamer.serve.limits import Limits

STREAMS = 12


def test_concurrent_streams_each_get_exactly_their_own_finals(
    serve, call_audio, classifier, settings
):
    audio, rate = call_audio
    # Each stream its own audio: the call after its own length of silence, so every result
    # says by its times whose it is.
    inputs = [np.concatenate([np.zeros(int(k * 0.37 * rate), np.int16), audio[: 20 * rate]])
              for k in range(STREAMS)]
    expected = [expected_finals(classifier, settings, x, rate) for x in inputs]

    async def all_at_once() -> list[list[dict]]:
        return await asyncio.gather(*(
            stream_audio(running.url, x, rate, frame_ms=40, speed=8.0) for x in inputs))

    began = time.monotonic()
    with serve(Limits(max_sessions=STREAMS)) as running:
        results = asyncio.run(asyncio.wait_for(all_at_once(), 60))
        assert wait_until(lambda: not running.server.sessions)
    took = time.monotonic() - began
    for events, predictions in zip(results, expected, strict=True):
        same_finals(events, predictions)
        assert events[-1]["reason"] == "stop"
    ids = {events[0]["session_id"] for events in results}
    assert len(ids) == STREAMS
    assert took < 30


def test_a_client_that_vanishes_frees_its_session(serve, call_audio):
    audio, rate = call_audio
    with serve(Limits(max_sessions=1)) as running:
        sock = socket.create_connection(("127.0.0.1", running.port))

        async def vanish() -> None:
            async with connect(running.url, sock=sock, compression=None) as ws:
                await ws.send(json.dumps({"type": "start", "audio": {"sample_rate": rate}}))
                await ws.recv()
                for at in range(0, 3 * rate, rate // 10):
                    await ws.send(audio[at : at + rate // 10].tobytes())
                assert len(running.server.sessions) == 1
                ws.transport.abort()  # no close frame: the network went

        asyncio.run(asyncio.wait_for(vanish(), 30))
        assert wait_until(lambda: not running.server.sessions)
        again = asyncio.run(stream_audio(running.url, audio[: 2 * rate], rate, speed=None))
    assert again[-1]["reason"] == "stop"  # the slot is free again


def test_a_reader_that_reads_only_at_the_end_still_gets_every_final(serve, call_audio):
    audio, rate = call_audio

    async def slow() -> list[dict]:
        async with connect(running.url, compression=None, max_queue=1) as ws:
            await ws.send(json.dumps({"type": "start", "audio": {"sample_rate": rate}}))
            for at in range(0, 36 * rate, rate // 10):
                await ws.send(audio[at : at + rate // 10].tobytes())
            await asyncio.sleep(1.0)
            await ws.send("stop")
            return [json.loads(m) async for m in ws]

    with serve(Limits(max_speed=1000, burst_s=600)) as running:
        events = asyncio.run(asyncio.wait_for(slow(), 60))
    assert events[-1]["type"] == "session.closed"
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) == events[-1]["utterances"] >= 6

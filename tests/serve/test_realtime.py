"""Streams at real time, as microphones send them: 16 at once on this machine's cores each
get their finals no later (p95) than a single stream's plus 150 ms."""

from __future__ import annotations

import asyncio

import numpy as np
from serving import finals_of

from streamer.serve.client import stream_audio
from streamer.serve.limits import Limits

STREAMS = 16
SECONDS = 8


def p95(results: list[list[dict]]) -> float:
    return float(np.percentile([e["latency_ms"] for r in results for e in finals_of(r)], 95))


def test_sixteen_live_streams_keep_the_latency_of_one(serve, call_audio):
    audio, rate = call_audio
    clip = audio[: SECONDS * rate]

    async def live(count: int) -> list[list[dict]]:
        return await asyncio.gather(*(
            stream_audio(running.url, np.roll(clip, k * rate // 7), rate, frame_ms=20,
                         speed=1.0) for k in range(count)))

    with serve(Limits(max_sessions=STREAMS)) as running:
        alone = asyncio.run(live(1))
        together = asyncio.run(live(STREAMS))
    assert all(r[-1]["reason"] == "stop" and finals_of(r) for r in together)
    assert any(e["type"] == "partial" for e in alone[0])  # at real time partials are kept
    one, many = p95(alone), p95(together)
    print(f"p95 of finals: one stream {one:.0f} ms, {STREAMS} streams {many:.0f} ms")
    assert many <= one + 150, (one, many)
    waited = [e["queued_ms"] for r in together for e in finals_of(r)]
    print(f"their audio waited in the queue: p95 {np.percentile(waited, 95):.0f} ms")
    assert np.percentile(waited, 95) < 150  # the 60 ms step, and not much more

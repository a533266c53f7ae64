"""/v1/stream gives what EmotionStream gives: any cut of the audio into frames, the same finals
(exactly one per utterance), times in ms plus the client's offset; flush and stop."""

from __future__ import annotations

import asyncio

import numpy as np
import soxr
from serving import expected_finals, finals_of, same_finals

from streamer.serve.client import stream_audio
from streamer.serve.limits import Limits

FAST = Limits(max_speed=1000, burst_s=600)  # as fast as the server reads


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def test_frames_of_20_ms_and_of_random_sizes_give_the_same_finals(
    serve, call_audio, classifier, settings
):
    audio, rate = call_audio
    expected = expected_finals(classifier, settings, audio, rate)
    assert len(expected) == 7  # one per line of the call
    sizes = np.random.default_rng(23).integers(1, rate, size=len(audio) // 50).tolist()
    with serve(FAST) as running:
        twenty = run(stream_audio(running.url, audio, rate, frame_ms=20, speed=None))
        ragged = run(stream_audio(running.url, audio, rate, frames=sizes, speed=None,
                                  start={"offset_ms": 60_000}))
    same_finals(twenty, expected)
    same_finals(ragged, expected, offset_ms=60_000)
    kinds = [e["type"] for e in twenty]
    assert kinds[0] == "session.started" and kinds[-1] == "session.closed"
    assert twenty[-1]["reason"] == "stop" and twenty[-1]["utterances"] == 7
    assert kinds.count("speech.started") >= 1
    # sent as fast as read, the server may fall over 1 s behind and skip partials; it says so
    assert "partial" in kinds or "warning" in kinds
    assert {e["trigger"] for e in finals_of(twenty)} <= {"vad", "stop"}
    for events in (twenty, ragged):  # sent as fast as read: partials merged, said once
        warnings = [e for e in events if e["type"] == "warning"]
        assert [w["code"] for w in warnings] in ([], ["behind"])
    started = twenty[0]
    assert started["config"]["audio"] == {"encoding": "pcm_s16le", "sample_rate": rate,
                                          "channels": 1}
    assert started["labels"] == list(classifier.labels) and started["limits"]["max_frame_ms"]


def test_one_sample_frames_give_the_same_finals(serve, call_audio, classifier, settings):
    """A frame of one sample is legal: 8 kHz mulaw, the call's first two lines."""
    from streamer.serve.audio import MULAW_TO_INT16, mulaw_encode

    audio, rate = call_audio
    narrow = soxr.resample(audio[: int(9.5 * rate)], rate, 8000).astype(np.int16)
    coded = mulaw_encode(narrow)
    decoded = MULAW_TO_INT16[np.frombuffer(coded, np.uint8)]
    expected = expected_finals(classifier, settings, decoded, 8000)
    assert len(expected) >= 2

    async def send() -> list[dict]:
        from websockets.asyncio.client import connect

        async with serve_url_connect(connect) as ws:
            await ws.send('{"type":"start","audio":{"encoding":"mulaw","sample_rate":8000}}')
            for k in range(len(coded)):
                await ws.send(coded[k : k + 1])
            await ws.send('{"type":"stop"}')
            return [__import__("json").loads(m) async for m in ws]

    with serve(FAST) as running:
        def serve_url_connect(connect):  # noqa: ANN001, ANN202
            return connect(running.url, compression=None)

        events = run(send())
    same_finals(events, expected)


def test_flush_gives_the_final_now_and_the_stream_goes_on(serve, call_audio):
    audio, rate = call_audio
    first = int(2.0 * rate)  # inside the first line

    async def send() -> list[dict]:
        import json

        from websockets.asyncio.client import connect

        async with connect(running.url, compression=None) as ws:
            start = {"type": "start", "audio": {"sample_rate": rate}, "partials": False}
            await ws.send(json.dumps(start))
            for at in range(0, first, rate // 10):
                await ws.send(audio[at : min(first, at + rate // 10)].tobytes())
            await ws.send("flush")  # a bare word is a control message too
            await ws.send(json.dumps({"type": "keepalive"}))
            for at in range(first, int(12 * rate), rate // 10):
                await ws.send(audio[at : at + rate // 10].tobytes())
            await ws.send(json.dumps({"type": "stop"}))
            return [json.loads(m) async for m in ws]

    with serve(FAST) as running:
        events = run(send())
    finals = finals_of(events)
    assert finals[0]["trigger"] == "flush" and finals[0]["end_ms"] <= 2000
    assert len(finals) >= 3 and all(f["trigger"] in ("vad", "stop") for f in finals[1:])
    assert not [e for e in events if e["type"] == "partial"]  # "partials": false
    assert events[-1]["type"] == "session.closed" and events[-1]["utterances"] == len(finals)


def test_a_stereo_float_stream_with_each_channel_gives_each_sides_finals(
    serve, stereo_call, classifier, settings
):
    import json

    from websockets.asyncio.client import connect

    audio, rate = stereo_call
    floats = (audio / 32768.0).astype("<f4")  # exactly the engine's scaling of int16
    expected = expected_finals(classifier, settings, floats, rate, channels="each",
                               input_channels=2)
    assert {p.channel for p in expected} == {1, 2}

    async def send() -> list[dict]:
        async with connect(running.url, compression=None) as ws:
            start = {"type": "start", "channels": "each", "partials": False,
                     "audio": {"encoding": "pcm_f32le", "sample_rate": rate, "channels": 2}}
            await ws.send(json.dumps(start))
            for at in range(0, len(floats), rate // 20):
                await ws.send(floats[at : at + rate // 20].tobytes())
            await ws.send("stop")
            return [json.loads(m) async for m in ws]

    with serve(FAST) as running:
        events = run(send())
    same_finals(events, expected)
    assert [e["channel"] for e in finals_of(events)] == [p.channel for p in expected]

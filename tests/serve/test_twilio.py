"""Twilio Media Streams: a call generated from the stereo demo call (agent left = Twilio's
outbound track, customer right = inbound), sent as Twilio sends it (base64 μ-law, 20 ms
chunks, both tracks), gives per track the finals EmotionStream gives for that channel; the
events reach a watcher on /v1/events; X-Twilio-Signature is checked when configured."""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest
import soxr
from serving import expected_finals, same_finals, wait_until
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from streamer.serve.audio import MULAW_TO_INT16, mulaw_encode
from streamer.serve.auth import Access, twilio_signature
from streamer.serve.limits import Limits

TRACKS = {"outbound": 0, "inbound": 1}  # agent: channel 1 (left), customer: channel 2 (right)
CALL = "CA0123456789abcdef0123456789abcdef"


def twilio_messages(mulaw: dict[str, bytes]) -> list[str]:
    """A Media Streams session: connected, start, 20 ms media chunks of each track, stop."""
    stream_sid = "MZ0123456789abcdef0123456789abcdef"
    messages = [{"event": "connected", "protocol": "Call", "version": "1.0.0"},
                {"event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
                 "start": {"streamSid": stream_sid, "callSid": CALL, "accountSid": "AC0",
                           "tracks": ["inbound", "outbound"], "customParameters": {},
                           "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                           "channels": 1}}}]
    n = len(next(iter(mulaw.values())))
    for chunk, at in enumerate(range(0, n, 160)):
        for track, coded in mulaw.items():
            payload = base64.b64encode(coded[at : at + 160]).decode()
            messages.append({"event": "media", "streamSid": stream_sid,
                             "media": {"track": track, "chunk": str(chunk + 1),
                                       "timestamp": str(at // 8), "payload": payload}})
    messages.append({"event": "stop", "streamSid": stream_sid,
                     "stop": {"accountSid": "AC0", "callSid": CALL}})
    return [json.dumps(m) for m in messages]


def test_a_twilio_call_gives_each_track_its_channels_finals(
    serve, stereo_call, classifier, settings
):
    audio, rate = stereo_call
    mulaw, decoded = {}, {}
    for track, channel in TRACKS.items():
        narrow = soxr.resample(audio[:, channel], rate, 8000).astype(np.int16)
        mulaw[track] = mulaw_encode(narrow)
        decoded[track] = MULAW_TO_INT16[np.frombuffer(mulaw[track], np.uint8)]
    expected = {t: expected_finals(classifier, settings, x, 8000) for t, x in decoded.items()}
    assert [len(v) for v in expected.values()] == [3, 4]
    messages = twilio_messages(mulaw)

    async def call() -> list[dict]:
        base = f"ws://127.0.0.1:{running.port}"
        async with connect(base + "/v1/twilio", compression=None) as twilio:
            for message in messages[:2]:
                await twilio.send(message)
            await asyncio.to_thread(wait_until, lambda: CALL in running.server.hub.calls)
            async with connect(base + f"/v1/events?call={CALL}") as watcher:
                for message in messages[2:]:
                    await twilio.send(message)
                return [json.loads(m) async for m in watcher]

    with serve(Limits(max_speed=1000, burst_s=600)) as running:  # sent faster than a call
        events = asyncio.run(asyncio.wait_for(call(), 60))
    assert events[0]["type"] == "session.started" and events[0]["call_sid"] == CALL
    assert events[-1]["type"] == "session.closed" and events[-1]["reason"] == "stop"
    for track in TRACKS:
        same_finals([e for e in events if e.get("track") == track], expected[track])


def test_a_webhook_gets_the_calls_finals_and_session_events(serve, stereo_call):
    import http.server
    import threading

    posted: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    audio, rate = stereo_call
    narrow = soxr.resample(audio[: 10 * rate, 0], rate, 8000).astype(np.int16)
    messages = twilio_messages({"outbound": mulaw_encode(narrow)})

    async def call() -> None:
        async with connect(f"ws://127.0.0.1:{running.port}/v1/twilio") as twilio:
            for message in messages:
                await twilio.send(message)

    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/events"
        with serve(Limits(max_speed=1000, burst_s=600), webhook=url) as running:
            asyncio.run(asyncio.wait_for(call(), 30))
            assert wait_until(lambda: posted and posted[-1]["type"] == "session.closed", 10)
    finally:
        hook.shutdown()
    kinds = [event["type"] for event in posted]
    assert kinds[0] == "session.started" and "partial" not in kinds
    assert kinds.count("final") == posted[-1]["utterances"] >= 2
    assert all(e["track"] == "outbound" for e in posted if e["type"] == "final")


def test_the_twilio_signature_is_checked_when_a_token_is_set(serve):
    access = Access(twilio_token="twilio-auth-token", public_url="wss://calls.example.com")
    good = twilio_signature("twilio-auth-token", "wss://calls.example.com/v1/twilio")

    async def attempt(signature: str | None) -> int:
        headers = {"X-Twilio-Signature": signature} if signature else None
        try:
            async with connect(f"ws://127.0.0.1:{running.port}/v1/twilio",
                               additional_headers=headers):
                return 101
        except InvalidStatus as refused:
            return refused.response.status_code

    with serve(access=access) as running:
        codes = [asyncio.run(attempt(s)) for s in (None, "bm9wZQ==", good)]
    assert codes == [403, 403, 101]


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255])
def test_the_mulaw_table_is_g711(value):
    """Spot values of ITU-T G.711 (as audioop.ulaw2lin gave them), and a round trip."""
    reference = {0: -32124, 1: -31100, 127: 0, 128: 32124, 255: 0}
    assert MULAW_TO_INT16[value] == reference[value]
    samples = np.linspace(-32000, 32000, 1001).astype(np.int16)
    back = MULAW_TO_INT16[np.frombuffer(mulaw_encode(samples), np.uint8)]
    assert np.all(np.abs(back.astype(int) - samples) <= np.abs(samples.astype(int)) / 16 + 8)


def test_a_twilio_stream_faster_than_real_time_is_closed_4029(serve, stereo_call):
    audio, rate = stereo_call
    narrow = soxr.resample(audio[: 20 * rate, 0], rate, 8000).astype(np.int16)
    messages = twilio_messages({"inbound": mulaw_encode(narrow), "outbound": b"\xff" * len(narrow)})

    async def flood() -> int | None:
        async with connect(f"ws://127.0.0.1:{running.port}/v1/twilio") as twilio:
            try:
                for message in messages:
                    await twilio.send(message)
                await twilio.wait_closed()
            except Exception:  # noqa: BLE001 (closed under us: the code says how)
                pass
            return twilio.close_code

    with serve(Limits(max_speed=2.0, burst_s=2.0)) as running:
        assert asyncio.run(asyncio.wait_for(flood(), 30)) == 4029

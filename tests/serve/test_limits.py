"""Limits and bad input get their documented codes, and the server keeps serving others:
N+1 refused with 503 (and /readyz says so), a frame over 1 s 1009, too fast 4029, idle 4031,
max duration 4008, audio before start / a second start / a bad start 1008; invalid JSON,
unknown types and partial samples are non-fatal errors."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from serving import finals_of, wait_until
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from streamer.serve.client import stream_audio
from streamer.serve.limits import Limits

START = json.dumps({"type": "start", "audio": {"encoding": "pcm_s16le", "sample_rate": 16000}})


def run(coroutine):  # noqa: ANN001, ANN201
    return asyncio.run(asyncio.wait_for(coroutine, 60))


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


async def exchange(url: str, *messages: str | bytes, wait: bool = True
                   ) -> tuple[list[dict], int | None]:
    """Send ``messages``; every event until the server closes (or 2 s pass), and the code."""
    async with connect(url, compression=None) as ws:
        for message in messages:
            await ws.send(message)
        events = []
        try:
            while True:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 2 if wait else 0.5)))
        except asyncio.TimeoutError:
            return events, None
        except Exception:  # noqa: BLE001 (closed: the code says how)
            return events, ws.close_code


def test_session_n_plus_1_is_refused_with_503_and_readyz_flips(serve):
    with serve(Limits(max_sessions=2, retry_after_s=7)) as running:
        assert status(running.http + "/readyz") == 200

        async def scenario() -> tuple[int, str | None, int, int]:
            async with connect(running.url) as a, connect(running.url) as b:
                await a.send(START)
                await b.send(START)
                await a.recv()
                await b.recv()
                full = await asyncio.to_thread(status, running.http + "/readyz")
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(running.url):
                        pass
                response = refused.value.response
                await a.send("stop")
            await asyncio.to_thread(wait_until, lambda: not running.server.sessions)
            again = await asyncio.to_thread(status, running.http + "/readyz")
            return response.status_code, response.headers.get("Retry-After"), full, again

        code, retry, full, again = run(scenario())
        metrics = urllib.request.urlopen(running.http + "/metrics", timeout=10).read().decode()
    assert (code, retry, full, again) == (503, "7", 503, 200)
    assert 'ser_sessions_refused_total{reason="503"} 1' in metrics
    assert "ser_sessions_active 0" in metrics and "ser_inference_seconds_count" in metrics


@pytest.mark.parametrize(
    ("messages", "code", "close"),
    [
        ([b"\x00\x00" * 160], "audio_before_start", 1008),
        ([START, START], "config_after_start", 1008),
        ([START, np.zeros(16001, "<i2").tobytes()], "frame_too_big", 1009),
        (['{"type":"start","audio":{"sample_rate":7999}}'], "invalid_start", 1008),
        (['{"type":"start","audio":{"sample_rate":16000.0}}'], "invalid_start", 1008),
        (['{"type":"start","audio":{"sample_rate":16000,"encoding":"opus"}}'],
         "invalid_start", 1008),
        (['{"type":"start","audio":{"sample_rate":16000,"channels":3}}'], "invalid_start", 1008),
        (['{"type":"start","audio":{"sample_rate":16000},"channels":"left"}'],
         "invalid_start", 1008),
        (['{"type":"start","audio":{"sample_rate":16000},"offset_ms":-1}'],
         "invalid_start", 1008),
    ],
    ids=["audio-first", "second-start", "oversize", "rate-low", "rate-float", "encoding",
         "three-channels", "channels", "offset"],
)
def test_fatal_mistakes_get_an_error_then_their_close_code(serve, messages, code, close):
    with serve() as running:
        async def both() -> tuple:
            bad = exchange(running.url, *messages)
            good = stream_audio(running.url, tone(3.0), 16000, speed=None)
            return await asyncio.gather(bad, good)

        (events, closed), others = run(both())
    errors = [e for e in events if e["type"] == "error"]
    assert errors and errors[-1]["code"] == code and errors[-1]["fatal"], events
    assert errors[-1]["close_code"] == close == closed
    assert events[-1]["type"] == "session.closed" and events[-1]["reason"] == code
    assert others[-1]["type"] == "session.closed" and others[-1]["reason"] == "stop"


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_non_fatal_mistakes_get_an_error_and_the_session_goes_on(serve):
    rng = np.random.default_rng(7)
    fuzz = ["{", "[]", "null", '{"type": 3}', '{"type":"dance"}', "x" * 9000, "",
            bytes(rng.integers(0, 256, 40, dtype=np.uint8)).decode("latin-1")]
    with serve() as running:
        events, closed = run(exchange(
            running.url, START, *fuzz, b"", b"\x01\x02\x03", np.zeros(320, "<i2").tobytes(),
            "stop"))
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == len(fuzz) + 2 and not any(e["fatal"] for e in errors)
    assert {e["code"] for e in errors} == {"invalid_json", "unknown_type", "empty_frame",
                                           "partial_samples"}
    assert events[-1] == {"type": "session.closed", "reason": "stop", "audio_ms": 20,
                          "utterances": 0, "partials_dropped": 0}
    assert closed == 1000


def test_too_fast_idle_and_max_duration_close_with_their_codes(serve, call_audio):
    audio, rate = call_audio
    limits = Limits(max_speed=2.0, burst_s=1.0, idle_s=0.6, max_duration_s=1.5)
    with serve(limits) as running:
        fast = run(stream_audio(running.url, audio[: 10 * rate], rate, speed=50))
        idle = run(exchange(running.url, START, wait=True))
        lasting = run(stream_audio(running.url, audio[: 4 * rate], rate, speed=1))
    assert fast[-2]["code"] == "too_fast" and fast[-2]["close_code"] == 4029
    assert fast[-1]["reason"] == "too_fast" and fast[-1]["audio_ms"] < 4000
    assert idle[1] == 4031 and idle[0][-2]["code"] == "idle"
    assert lasting[-2]["code"] == "max_duration" and lasting[-2]["close_code"] == 4008
    assert lasting[-1]["type"] == "session.closed"
    assert finals_of(lasting) or lasting[-1]["utterances"] == 0


def test_an_engine_failure_closes_only_its_session_with_1011(serve, caplog):
    with serve() as running:
        made = running.server.new_stream

        def failing(config):  # noqa: ANN001, ANN202
            stream = made(config)

            def feed(block):  # noqa: ANN001, ANN202
                raise RuntimeError("model exploded")

            stream.feed = feed
            return stream

        running.server.new_stream = failing
        events, closed = run(exchange(running.url, START, np.zeros(320, "<i2").tobytes()))
        running.server.new_stream = made
        others = run(stream_audio(running.url, tone(1.0), 16000, speed=None))
    assert closed == 1011 and events[-2]["code"] == "internal"
    assert events[-1]["reason"] == "internal"
    assert "model exploded" in caplog.text  # logged for the operator, not sent
    assert "model exploded" not in json.dumps(events)
    assert others[-1]["reason"] == "stop"


def test_a_bug_in_the_server_ends_its_session_with_1011_and_a_logged_traceback(serve, caplog):
    with serve() as running:
        def broken(*args):  # noqa: ANN002, ANN202
            raise KeyError("a bug")

        made = running.server.started_event
        running.server.started_event = broken
        events, closed = run(exchange(running.url, START))
        running.server.started_event = made
        others = run(stream_audio(running.url, tone(1.0), 16000, speed=None))
    assert closed == 1011 and events[-2]["code"] == "internal"
    assert "Traceback" in caplog.text and "a bug" in caplog.text
    assert others[-1]["reason"] == "stop"


def test_the_plain_http_routes(serve):
    with serve() as running:
        with urllib.request.urlopen(running.http + "/", timeout=10) as page:
            html = page.read().decode()
            policy = page.headers["Content-Security-Policy"]
            kind = page.headers["Content-Type"]
        with urllib.request.urlopen(running.http + "/healthz", timeout=10) as health:
            assert health.read() == b"ok\n"
        assert status(running.http + "/worklet.js") == 200
        assert status(running.http + "/nowhere") == 404
    assert kind.startswith("text/html") and 'id="timeline"' in html
    assert "default-src 'self'" in policy

"""SIGTERM drains ser-serve, run as the README says: a stream in progress gets its finals,
then session.closed (reason shutdown), then close 1001; the command exits 0 and logs one line
per session."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

from tools import terminal_signals
from websockets.asyncio.client import connect


def start_server() -> tuple[subprocess.Popen, int]:
    """``ser-serve`` on a free port with the fast model, in its own signal group."""
    server = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "ser-serve"), "--port", "0",
         "--model", "fast"],
        stderr=subprocess.PIPE, text=True, preexec_fn=terminal_signals,
    )
    return server, int(re.search(r"ws://127\.0\.0\.1:(\d+)/", server.stderr.readline()).group(1))


def test_sigterm_drains_every_session(call_audio, tmp_path):
    audio, rate = call_audio
    server, port = start_server()
    try:

        async def stream_then_term() -> tuple[list[dict], int | None]:
            async with connect(f"ws://127.0.0.1:{port}/v1/stream", compression=None) as ws:
                await ws.send(json.dumps({"type": "start", "audio": {"sample_rate": rate}}))
                events = [json.loads(await ws.recv())]
                # the first line and half of the second: one final done, one in progress
                for at in range(0, int(7.5 * rate), rate // 10):
                    await ws.send(audio[at : at + rate // 10].tobytes())
                await asyncio.sleep(0.5)
                server.send_signal(signal.SIGTERM)
                async for message in ws:
                    events.append(json.loads(message))
                return events, ws.close_code

        events, code = asyncio.run(asyncio.wait_for(stream_then_term(), 60))
        rest = server.communicate(timeout=30)[1]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    finals = [e for e in events if e["type"] == "final"]
    assert len(finals) == 2 and finals[-1]["trigger"] == "stop"
    assert events[-1]["type"] == "session.closed" and events[-1]["reason"] == "shutdown"
    assert code == 1001
    assert server.returncode == 0
    assert len(re.findall(r"session \w+ /v1/stream .*reason=shutdown close=1001", rest)) == 1
    assert "Traceback" not in rest


def test_a_second_sigterm_leaves_at_once_with_130(call_audio):
    audio, rate = call_audio
    server, port = start_server()
    try:

        async def stuck_client() -> float:
            # A client that stops reading: the drain waits on its close handshake.
            async with connect(f"ws://127.0.0.1:{port}/v1/stream", max_queue=1) as ws:
                await ws.send(json.dumps({"type": "start", "audio": {"sample_rate": rate}}))
                for at in range(0, 6 * rate, rate // 10):
                    await ws.send(audio[at : at + rate // 10].tobytes())
                await asyncio.sleep(0.5)
                server.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.5)
                assert server.poll() is None  # still draining
                began = time.monotonic()
                server.send_signal(signal.SIGTERM)
                await asyncio.to_thread(server.wait, 10)
                took = time.monotonic() - began
                ws.transport.abort()  # (it reads nothing, so it would not see the server go)
                return took

        took = asyncio.run(asyncio.wait_for(stuck_client(), 30))
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 130 and took < 2
    assert "leaving without draining" in server.stderr.read()

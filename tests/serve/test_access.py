"""Who may connect: a missing or wrong token is refused (401) before any upgrade, by header or
?token=; a foreign Origin is refused (403); the token never reaches the logs; and ser-serve
will not listen off loopback without a token."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from streamer.serve.auth import Access

TOKEN = "s3cret-token-0123456789"
START = '{"type":"start","audio":{"sample_rate":16000}}'


async def attempt(url: str, **kwargs) -> int:
    """101 when the upgrade succeeds (and a session starts), else the HTTP status."""
    try:
        async with connect(url, **kwargs) as ws:
            await ws.send(START)
            event = await asyncio.wait_for(ws.recv(), 10)
            assert "session.started" in event
            await ws.send("stop")
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def test_tokens_and_origins(serve, caplog):
    caplog.set_level(logging.DEBUG)
    access = Access(token=TOKEN, origins=("https://app.example",))
    with serve(access=access) as running:
        url = running.url

        async def all_of_them() -> list[int]:
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            return [
                await attempt(url),
                await attempt(url, additional_headers={"Authorization": "Bearer nope"}),
                await attempt(url + "?token=wrong"),
                await attempt(url, additional_headers=bearer),
                await attempt(url + f"?token={TOKEN}"),
                await attempt(url + f"?token={TOKEN}", origin="https://evil.example"),
                await attempt(url + f"?token={TOKEN}", origin="https://app.example"),
            ]

        codes = asyncio.run(all_of_them())
    assert codes == [401, 401, 401, 101, 101, 403, 101]
    server_side = [r.getMessage() for r in caplog.records if not r.name.startswith(
        "websockets.client")]  # (the client library logs its own request line at DEBUG)
    assert not [line for line in server_side if TOKEN in line]
    assert sum("reason=stop" in line for line in server_side) == 3  # logged, without it


def test_without_an_allowlist_only_the_pages_own_origin_may_connect(serve):
    with serve() as running:
        own = f"http://127.0.0.1:{running.port}"

        async def both() -> list[int]:
            return [await attempt(running.url, origin=own),
                    await attempt(running.url, origin="http://127.0.0.1:1")]

        assert asyncio.run(both()) == [101, 403]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--host", "0.0.0.0"], "a token is required off loopback"),
        (["--port", "70000"], "--port must be 0..65535"),
        (["--max-sessions", "0"], "--max-sessions must be positive"),
        (["--token-file", "/nonexistent/token"], "--token-file /nonexistent/token"),
        (["--model", "/nonexistent/model.onnx"], "model"),
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(args, says):
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "streamer.serve.cli", *args],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ser-serve: error:")
    assert says in done.stderr

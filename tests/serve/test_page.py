"""The browser page at / for real: headless Chromium captures a generated speech file as its
microphone (AudioWorklet, 16-bit PCM over /v1/stream), and the page's timeline shows the finals
the server sent; a screenshot of it is not blank. Driven through the DevTools protocol with
the websockets client (no browser-automation dependency)."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from tools import require_tool, skip_or_fail
from websockets.asyncio.client import connect


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    skip_or_fail("Chromium not installed (apt-get install chromium; `make test` installs it)")
    raise AssertionError  # not reached


class DevTools:
    """Just enough of the DevTools protocol: a command, its result."""

    def __init__(self, ws) -> None:  # noqa: ANN001
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params) -> dict:
        number = next(self.ids)
        await self.ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply.get("id") == number:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    async def evaluate(self, expression: str):  # noqa: ANN201
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


def start_browser(url: str, wav: Path, profile: Path) -> tuple[subprocess.Popen, str]:
    browser = subprocess.Popen(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
         f"--use-file-for-fake-audio-capture={wav}", "--autoplay-policy=no-user-gesture-required",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1000,800",
         url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
        if time.monotonic() > deadline or browser.poll() is not None:
            browser.kill()
            pytest.fail("Chromium did not start its DevTools endpoint")
        time.sleep(0.1)
    port = port_file.read_text().split()[0]
    for _ in range(100):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page" and url in t["url"]]
        if pages:
            return browser, pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    browser.kill()
    pytest.fail("the page did not open in Chromium")
    raise AssertionError


FINALS_JS = ("JSON.stringify([...document.querySelectorAll('#timeline li.final')]"
             ".map(li => [+li.dataset.startMs, +li.dataset.endMs, li.dataset.label]))")


async def watch_page(debugger: str, wanted: int, timeout_s: float) -> tuple[list, bytes, str]:
    async with connect(debugger, max_size=2**25, compression=None) as ws:
        tools = DevTools(ws)
        deadline = time.monotonic() + timeout_s
        shown: list = []
        while time.monotonic() < deadline:
            shown = json.loads(await tools.evaluate(FINALS_JS) or "[]")
            if len(shown) >= wanted:
                break
            await asyncio.sleep(0.5)
        status = await tools.evaluate("document.getElementById('status').textContent")
        shot = await tools.call("Page.captureScreenshot", format="png")
        await tools.evaluate("document.getElementById('stop').click()")
        return shown, base64.b64decode(shot["data"]), status


def test_the_page_shows_the_finals_the_server_sent(serve, tmp_path):
    require_tool("espeak-ng")
    from streamer.live.demo import LINES, make_sample

    wav = tmp_path / "speech.wav"
    make_sample(wav, lines=LINES[:3], gap_s=1.2)  # ~14 s, looped by Chromium
    with serve() as running:
        url = f"{running.http}/?autostart=mic"
        browser, debugger = start_browser(url, wav, tmp_path / "profile")
        try:
            shown, png, status = asyncio.run(watch_page(debugger, wanted=3, timeout_s=60))
        finally:
            browser.terminate()
            browser.wait(10)
        sent = [e for events in running.sent.values() for e in events if e["type"] == "final"]
    assert len(shown) >= 3, f"the page shows {shown}; its status: {status}"
    assert "session" in status and "16000 Hz" in status  # Chromium resampled to 16 kHz
    assert shown == [[e["start_ms"], e["end_ms"], e["label"]] for e in sent][: len(shown)]
    check_screenshot(png, tmp_path / "page.png")


def check_screenshot(png: bytes, path: Path) -> None:
    """A real picture: a PNG of the window's size, with the timeline's colours in it."""
    import matplotlib.image

    path.write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    assert pixels.shape[0] >= 600 and pixels.shape[1] >= 900
    assert float(pixels.std()) > 0.05  # not one colour
    colourful = np.abs(pixels[..., 0] - pixels[..., 2]) > 0.2  # the coloured bars, not greys
    assert colourful.sum() > 200


async def replay_file(debugger: str, wav: Path, timeout_s: float) -> tuple[list, str]:
    async with connect(debugger, max_size=2**25, compression=None) as ws:
        tools = DevTools(ws)
        deadline = time.monotonic() + timeout_s
        while not await tools.evaluate("document.readyState === 'complete' && !!window.serPage"):
            assert time.monotonic() < deadline, "the page did not load"
            await asyncio.sleep(0.1)
        found = await tools.call("Runtime.evaluate", expression="document.getElementById('file')")
        await tools.call("DOM.setFileInputFiles", objectId=found["result"]["objectId"],
                         files=[str(wav)])
        status = ""
        while time.monotonic() < deadline and not status.startswith("session closed"):
            await asyncio.sleep(0.3)
            status = await tools.evaluate("document.getElementById('status').textContent")
        return json.loads(await tools.evaluate(FINALS_JS) or "[]"), status


def test_a_file_chosen_on_the_page_is_replayed_to_the_same_finals(serve, tmp_path):
    require_tool("espeak-ng")
    from streamer.live.demo import LINES, make_sample

    wav = tmp_path / "call.wav"
    make_sample(wav, lines=LINES[:3], gap_s=1.0)
    silent = tmp_path / "silence.wav"
    import soundfile as sf

    sf.write(silent, np.zeros(16000, np.int16), 16000)
    with serve() as running:
        browser, debugger = start_browser(running.http + "/", silent, tmp_path / "profile")
        try:
            shown, status = asyncio.run(replay_file(debugger, wav, timeout_s=40))
        finally:
            browser.terminate()
            browser.wait(10)
        sent = [e for events in running.sent.values() for e in events if e["type"] == "final"]
    assert status.startswith("session closed: stop, 3 utterances"), status
    assert shown == [[e["start_ms"], e["end_ms"], e["label"]] for e in sent] and len(shown) == 3

"""ser-serve on loopback, in this process: a server on its own thread and event loop, the fast
model loaded once, every event it sends recorded; and the audio the tests stream."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile as sf
from tools import require_module, require_tool

require_module("websockets", "serve")

from streamer.engine.build import load_model  # noqa: E402
from streamer.serve.auth import Access  # noqa: E402
from streamer.serve.limits import Limits  # noqa: E402
from streamer.serve.server import Server  # noqa: E402
from streamer.settings import load_settings  # noqa: E402

MODEL = "fast"  # the functionals model: the protocol is under test, not the model


@dataclass
class Running:
    server: Server
    port: int
    loop: asyncio.AbstractEventLoop
    sent: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, coroutine):  # noqa: ANN001, ANN201 (run on the server's loop)
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def classifier(settings):
    return load_model(settings, MODEL)


@pytest.fixture(scope="session")
def serve(settings, classifier):
    """``with serve(limits=..., access=...) as running:`` a server on loopback."""

    @contextmanager
    def start(limits: Limits | None = None, access: Access | None = None,
              webhook: str | None = None) -> Iterator[Running]:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        box: dict[str, Running] = {}

        def observer(session_id: str, event: dict) -> None:
            box["running"].sent[session_id].append(event)

        server_holder: list[Server] = []

        def main() -> None:
            asyncio.set_event_loop(loop)

            async def go() -> None:
                server = Server(settings, classifier, limits or Limits(), access, observer,
                                twilio_webhook=webhook)
                server_holder.append(server)

                def on_ready(port: int) -> None:
                    box["running"] = Running(server, port, loop)
                    ready.set()

                await server.serve("127.0.0.1", 0, on_ready)

            loop.run_until_complete(go())

        thread = threading.Thread(target=main, daemon=True)
        thread.start()
        assert ready.wait(30), "the server did not start"
        try:
            yield box["running"]
        finally:
            asyncio.run_coroutine_threadsafe(server_holder[0].drain(), loop).result(60)
            thread.join(30)
            loop.close()

    return start


@pytest.fixture(scope="session")
def call_audio(tmp_path_factory) -> tuple[np.ndarray, int]:
    """The demo call (espeak-ng), mono int16 at its own 22.05 kHz."""
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    path = tmp_path_factory.mktemp("call") / "call.wav"
    make_sample(path, gap_s=0.8)
    audio, rate = sf.read(path, dtype="int16")
    return audio, rate


@pytest.fixture(scope="session")
def stereo_call(tmp_path_factory) -> tuple[np.ndarray, int]:
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    path = tmp_path_factory.mktemp("call") / "stereo.wav"
    make_sample(path, gap_s=0.8, stereo=True)
    audio, rate = sf.read(path, dtype="int16", always_2d=True)
    return audio, rate

"""A small client: send a recording (or stdin's WAV) to ``ser-serve`` and print the rows
ser-live prints, or the events as JSON lines.

    ser-client call.wav                                   # ws://127.0.0.1:8765/v1/stream
    ser-client call.wav --server ws://host:8765 --speed 1 --jsonl

As a library: :func:`stream_audio` sends an array and returns every event the server sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from streamer.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandParser, exit_now, say

PROG = "ser-client"
DEFAULT_SERVER = "ws://127.0.0.1:8765"


def stream_url(server: str) -> str:
    return server if "/v1/" in server else server.rstrip("/") + "/v1/stream"


async def stream_audio(
    url: str,
    audio: Any,
    rate: int,
    *,
    frame_ms: float = 100.0,
    speed: float | None = 1.0,
    start: dict[str, Any] | None = None,
    token: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    frames: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Send ``audio`` ((n,) or (n, channels), a dtype the engine takes; sent as s16le) as
    frames of ``frame_ms`` (or of the sizes in ``frames``), at ``speed`` times real time (None:
    as fast as the server reads), then ``stop``; every event, up to ``session.closed``."""
    pcm = as_int16(audio)
    return await stream_frames(url, _paced(pcm, rate, frame_ms, speed, frames), rate,
                               pcm.shape[1], start=start, token=token, on_event=on_event)


async def stream_frames(
    url: str,
    frames: AsyncIterator[bytes],
    rate: int,
    channels: int,
    *,
    start: dict[str, Any] | None = None,
    token: str | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Send ``start``, the s16le ``frames`` as they come, then ``stop``; every event."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    message = {"type": "start", **(start or {})}
    message.setdefault("audio", {"encoding": "pcm_s16le", "sample_rate": rate,
                                 "channels": channels})
    headers = {"Authorization": f"Bearer {token}"} if token else None
    received: list[dict[str, Any]] = []
    async with connect(url, additional_headers=headers, compression=None,
                       max_size=2**22) as ws:
        await ws.send(json.dumps(message))

        async def read() -> None:
            with contextlib.suppress(ConnectionClosed):  # the events say why
                async for text in ws:
                    event = json.loads(text)
                    received.append(event)
                    if on_event is not None:
                        on_event(event)

        reader = asyncio.create_task(read())
        with contextlib.suppress(ConnectionClosed):
            async for frame in frames:
                await ws.send(frame)
            await ws.send(json.dumps({"type": "stop"}))
        await reader
    return received


def as_int16(audio: Any) -> Any:
    """(n, channels) little-endian int16: int16 as it is, anything else scaled by 2^15 as the
    engine scales int16 (so the server hears what EmotionStream hears from the same array)."""
    import numpy as np

    from streamer.engine.emotion_stream import as_float_block

    array = np.asarray(audio)
    if array.dtype != np.int16:
        array = np.clip(np.round(as_float_block(array) * 32768.0), -32768, 32767)
    return array.astype("<i2").reshape(len(array), -1)


async def _paced(pcm: Any, rate: int, frame_ms: float, speed: float | None,
                 frames: list[int] | None) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    began = loop.time()
    sizes = frames or itertools.repeat(max(1, round(rate * frame_ms / 1000)))
    at = 0
    for size in sizes:
        if at >= len(pcm):
            break
        yield pcm[at : at + size].tobytes()
        at += size
        if speed:
            ahead = began + at / rate / speed - loop.time()
            if ahead > 0:
                await asyncio.sleep(ahead)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog=PROG, description="Send a recording to ser-serve and print "
                           "a line per utterance, as ser-live --no-ui does.")
    parser.add_argument("input", nargs="?",
                        help="an audio file (WAV, FLAC, ...), or - for stdin; none with --mic")
    parser.add_argument("--mic", action="store_true",
                        help="stream the microphone instead, until Ctrl-C or --duration")
    parser.add_argument("--device", metavar="DEVICE",
                        help="the microphone, by name or index (ser-live --list-devices); "
                        "default: the system's")
    parser.add_argument("--duration", type=float, metavar="SECONDS",
                        help="stop the microphone after this many seconds")
    parser.add_argument("--server", default=DEFAULT_SERVER, metavar="URL",
                        help="ser-serve's ws:// (or wss://) URL; /v1/stream is added")
    parser.add_argument("--speed", type=float, default=1.0, metavar="N",
                        help="times real time to send at (a server takes up to its "
                        "--max-speed, 10 by default)")
    parser.add_argument("--channels", choices=("mix", "each"), default="mix",
                        help="each: one stream per channel of a stereo recording")
    parser.add_argument("--jsonl", action="store_true", help="every event as a JSON line")
    return parser


def print_event(event: dict[str, Any], started: dict[str, Any], jsonl: bool) -> None:
    """``event`` as ser-live's line (finals), or as JSON; ``started``: the session.started."""
    from streamer.results import Prediction
    from streamer.sinks.console_lines import format_line

    if jsonl:
        print(json.dumps(event), flush=True)
    elif event["type"] == "final":
        labels = started["labels"]
        probs = tuple(float(event[f"p_{label}"]) for label in labels)
        result = Prediction(event["start_ms"] / 1000, event["end_ms"] / 1000, None,
                            tuple(labels), probs, float(event["latency_ms"]),
                            channel=event.get("channel"))
        print(format_line(result, started["uncertain_below"]), flush=True)
    elif event["type"] in ("error", "warning"):
        say(f"{PROG}: {event['type']}: {event['code']}: {event['message']}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.speed > 0:
        parser.error(f"--speed must be positive (got {args.speed:g})")
    try:
        import websockets  # noqa: F401
    except ImportError:
        say(f"{PROG}: error: ser-client needs websockets; install it with: "
            "pip install 'ser-live[serve]'")
        return EXIT_USAGE
    if args.mic == (args.input is not None):
        parser.error("give a recording to send, or --mic (not both)")
    if args.duration is not None and not (args.mic and args.duration > 0):
        parser.error("--duration is a positive number of seconds, with --mic")
    if args.mic:
        return send_microphone(args)
    try:
        import soundfile as sf

        source = sys.stdin.buffer if args.input == "-" else Path(args.input)
        audio, rate = sf.read(source, dtype="int16", always_2d=True)
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        say(f"{PROG}: error: cannot read {args.input}: {' '.join(str(exc).split())[:200]}")
        return EXIT_USAGE
    return send(args, stream_audio(stream_url(args.server), audio, rate, speed=args.speed,
                                   start={"channels": args.channels}, token=token_of(),
                                   on_event=printer(args.jsonl)))


def token_of() -> str | None:
    return os.environ.get("SER_SERVE_TOKEN") or None


def printer(jsonl: bool) -> Callable[[dict[str, Any]], None]:
    """What to do with each event: print it as ser-live would, or as JSON."""
    started: dict[str, Any] = {}

    def on_event(event: dict[str, Any]) -> None:
        if event["type"] == "session.started":
            started.update(event)
        print_event(event, started, jsonl)

    return on_event


def send_microphone(args: argparse.Namespace) -> int:
    import threading

    from streamer.cli_common import report, stop_on_signals
    from streamer.errors import SerError
    from streamer.serve.microphone import mic_frames
    from streamer.settings import load_settings
    from streamer.sources.mic import MicSource

    try:
        source = MicSource(args.device, load_settings().audio, "mix")
    except SerError as exc:
        return report(PROG, exc)
    stop = threading.Event()
    timer = threading.Timer(args.duration, stop.set) if args.duration else None
    try:
        with stop_on_signals(stop):
            if timer is not None:
                timer.start()
            return send(args, stream_frames(stream_url(args.server), mic_frames(source, stop),
                                            source.rate_hz, 1, token=token_of(),
                                            on_event=printer(args.jsonl)))
    finally:
        if timer is not None:
            timer.cancel()
        source.close()


def send(args: argparse.Namespace, session: Coroutine[Any, Any, list[dict[str, Any]]]) -> int:
    """Run a session; 0 when it ended with ``stop``, else 1 (said in one line)."""
    from streamer.errors import SerError

    try:
        events = asyncio.run(session)
    except SerError as exc:  # the microphone went away: what it gave was sent and shown
        from streamer.cli_common import report

        return report(PROG, exc)
    except (OSError, ImportError) as exc:
        say(f"{PROG}: error: {args.server}: {' '.join(str(exc).split())[:200]}")
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 (websockets' refusals, in one line)
        say(f"{PROG}: error: {args.server}: {type(exc).__name__}: {exc}")
        return EXIT_FAILURE
    closed = [e for e in events if e["type"] == "session.closed"]
    return EXIT_OK if closed and closed[-1]["reason"] == "stop" else EXIT_FAILURE


def entry() -> None:
    exit_now(lambda: main(sys.argv[1:]))


if __name__ == "__main__":
    entry()

"""Starting and stopping ``ser-serve``: settings and model once, the loop, SIGTERM drains."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from streamer.cli_common import EXIT_INTERRUPTED, EXIT_OK, say
from streamer.engine.build import load_model
from streamer.serve.auth import Access
from streamer.serve.limits import Limits
from streamer.serve.server import Server
from streamer.settings import load_settings


def make_server(args: argparse.Namespace, token: str | None, twilio_token: str | None) -> Server:
    settings = load_settings(args.config)
    classifier = load_model(settings, args.model)
    limits = Limits(max_sessions=args.max_sessions, max_duration_s=args.max_duration_s,
                    idle_s=args.idle_s, max_speed=args.max_speed, workers=args.workers)
    access = Access(token, tuple(args.allow_origin), twilio_token, args.twilio_public_url)
    return Server(settings, classifier, limits, access, twilio_webhook=args.twilio_webhook)


def run(args: argparse.Namespace, token: str | None, twilio_token: str | None) -> int:
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s ser-serve %(message)s")
    server = make_server(args, token, twilio_token)

    def ready(port: int) -> None:
        host = f"[{args.host}]" if ":" in args.host else args.host
        say(f"ser-serve: listening on ws://{host}:{port}/v1/stream, the page at "
            f"http://{host}:{port}/ ({server.limits.pool_size()} inference threads, model "
            f"{server.classifier.path.name})")

    asyncio.run(_serve(server, args.host, args.port, ready))
    say("ser-serve: drained and stopped")
    return EXIT_OK


async def _serve(server: Server, host: str, port: int, ready) -> None:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    drains: list[asyncio.Task[None]] = []

    def stop() -> None:
        if drains:  # asked twice: out now, without waiting for the finals
            say("ser-serve: stopped again; leaving without draining")
            os._exit(EXIT_INTERRUPTED)
        say("ser-serve: draining (new sessions get 503; a second signal leaves at once)")
        drains.append(loop.create_task(server.drain()))

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop)
    await server.serve(host, port, ready)

"""``ser-serve``: speech emotion over a WebSocket (docs/server.md).

    ser-serve                                   # ws://127.0.0.1:8765, the page at http://127.0.0.1:8765/
    SER_SERVE_TOKEN=… ser-serve --host 0.0.0.0  # any other address needs a token
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from streamer.cli_common import EXIT_USAGE, CommandParser, exit_now, report, say

PROG = "ser-serve"
TOKEN_ENV, TWILIO_ENV = "SER_SERVE_TOKEN", "TWILIO_AUTH_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog=PROG, description="Speech emotion over a WebSocket: "
                           "/v1/stream, /v1/twilio, the browser page at /, /healthz, /readyz, "
                           "/metrics. Tokens come from the environment, never from flags.")
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                        help="address to listen on (other than loopback: a token is required)")
    parser.add_argument("--port", type=int, default=8765, metavar="N",
                        help="TCP port to listen on (0: any free one, printed)")
    parser.add_argument("--model", metavar="MODEL",
                        help="an ONNX model, or a shipped one's name (default, fast); "
                        "default: the settings' model.path")
    parser.add_argument("--config", type=Path, metavar="TOML",
                        help="a TOML file layered over the shipped config.toml")
    limits = parser.add_argument_group("limits")
    limits.add_argument("--max-sessions", type=int, default=16, metavar="N",
                        help="streams at once; one more is refused with HTTP 503")
    limits.add_argument("--max-duration-s", type=float, default=4 * 3600.0, metavar="SECONDS",
                        help="wall-clock seconds one session may last (then close 4008)")
    limits.add_argument("--idle-s", type=float, default=30.0, metavar="SECONDS",
                        help="no message for this long closes a session (4031)")
    limits.add_argument("--max-speed", type=float, default=10.0, metavar="N",
                        help="times real time a client may send audio at, after a 10 s burst "
                        "(then close 4029)")
    limits.add_argument("--workers", type=int, default=0, metavar="N",
                        help="inference threads shared by every session (0: one per core)")
    access = parser.add_argument_group("access")
    access.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a browser origin that may connect (repeatable; '*' for any; "
                        "default: the server's own page only)")
    access.add_argument("--token-file", type=Path, metavar="FILE",
                        help=f"a file holding the bearer token (or set {TOKEN_ENV}); required "
                        "when --host is not a loopback address")
    twilio = parser.add_argument_group("Twilio Media Streams")
    twilio.add_argument("--twilio-public-url", metavar="URL",
                        help=f"wss://host[:port] as Twilio calls it, to check X-Twilio-Signature "
                        f"(with {TWILIO_ENV} set)")
    twilio.add_argument("--twilio-webhook", metavar="URL",
                        help="POST each call's finals and session events here as JSON")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning"),
                        help="one line per session at info")
    return parser


def read_token(args: argparse.Namespace) -> str | None:
    from streamer.errors import ConfigError

    if args.token_file is not None:
        try:
            token = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"--token-file {args.token_file}: {exc.strerror}") from None
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
    if token and len(token) < 16:
        raise ConfigError("the token must be at least 16 characters")
    return token or None


def check(args: argparse.Namespace, token: str | None) -> None:
    from streamer.errors import ConfigError
    from streamer.serve.auth import is_loopback

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0..65535 (got {args.port})")
    for name in ("max_sessions", "max_duration_s", "idle_s", "max_speed"):
        if not getattr(args, name) > 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive")
    if args.workers < 0:
        raise ConfigError("--workers must be 0 (one per core) or more")
    if token is None and not is_loopback(args.host):
        raise ConfigError(f"--host {args.host} is reachable from other machines: set "
                          f"{TOKEN_ENV} or --token-file (a token is required off loopback)")


NO_WEBSOCKETS = "ser-serve needs websockets; install it with: pip install 'ser-live[serve]'"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        import websockets  # noqa: F401
    except ImportError:
        say(f"{PROG}: error: {NO_WEBSOCKETS}")
        return EXIT_USAGE
    try:
        token = read_token(args)
        check(args, token)
        from streamer.serve.run import run

        return run(args, token, os.environ.get(TWILIO_ENV) or None)
    except Exception as exc:  # noqa: BLE001 (one line, never a traceback)
        from streamer.errors import SerError

        if not isinstance(exc, (SerError, OSError)):
            raise
        return report(PROG, exc)


def entry() -> None:
    exit_now(lambda: main(sys.argv[1:]))


if __name__ == "__main__":
    entry()

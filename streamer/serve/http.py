"""The plain HTTP side of the server, answered before any WebSocket upgrade: ``/healthz``,
``/readyz``, ``/metrics``, the browser page, and the refusals (401/403 for access, 503 with
Retry-After when full or draining, 404 for an unknown path)."""

from __future__ import annotations

from http import HTTPStatus
from importlib import resources
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

if TYPE_CHECKING:
    from streamer.serve.server import Server

SOCKETS = ("/v1/stream", "/v1/twilio", "/v1/events")
# The page runs only its own files and talks only to this server.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/worklet.js": ("worklet.js", "text/javascript; charset=utf-8"),
}


def response(status: int, body: bytes | str, content_type: str = "text/plain; charset=utf-8",
             extra: dict[str, str] | None = None) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    headers = Headers({"Content-Type": content_type, "Content-Length": str(len(data))})
    headers["Cache-Control"] = "no-store"
    for key, value in (extra or {}).items():
        headers[key] = value
    return Response(status, HTTPStatus(status).phrase, headers, data)


def static_file(name: str) -> bytes:
    return resources.files("streamer.serve").joinpath("static", name).read_bytes()


def route(server: Server, request: Request) -> Response | None:
    """A response, or None to go on with the WebSocket upgrade."""
    path = urlsplit(request.path).path
    if path == "/healthz":
        return response(200, "ok\n")
    if path == "/readyz":
        why = server.not_ready()
        return response(503, f"{why}\n") if why else response(200, "ready\n")
    if path == "/metrics":
        return response(200, server.metrics.text(), "text/plain; version=0.0.4; charset=utf-8")
    if path in STATIC and "upgrade" not in request.headers.get("Connection", "").lower():
        name, kind = STATIC[path]
        return response(200, static_file(name), kind, PAGE_HEADERS)
    if path not in SOCKETS:
        return response(404, "not found\n")
    headers = {k.lower(): v for k, v in request.headers.raw_items()}
    refused = server.access.refusal(request.path, headers)
    if refused is not None:
        server.metrics.add(f'ser_sessions_refused_total{{reason="{refused[0]}"}}')
        return response(refused[0], f"{refused[1]}\n")
    if path != "/v1/events":
        why = server.not_ready()
        if why:
            server.metrics.add('ser_sessions_refused_total{reason="503"}')
            extra = {"Retry-After": str(server.limits.retry_after_s)}
            return response(503, f"{why}\n", extra=extra)
    return None

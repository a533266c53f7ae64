"""Who may connect: an optional bearer token (``Authorization: Bearer …`` or ``?token=`` for
browsers, compared in constant time and never logged), an Origin allowlist (browsers only send
one; without a list only the server's own page's origin is let in), and Twilio's request
signature when a Twilio auth token is configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


def is_loopback(host: str) -> bool:
    """Only this machine can reach ``host`` ("" and 0.0.0.0 are every interface)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def query_token(path: str) -> str | None:
    values = parse_qs(urlsplit(path).query).get("token")
    return values[0] if values else None


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def twilio_signature(auth_token: str, url: str) -> str:
    """Twilio's X-Twilio-Signature of a GET (a WebSocket upgrade): base64 HMAC-SHA1 of the
    full URL it requested, keyed with the account's auth token."""
    digest = hmac.new(auth_token.encode("utf-8"), url.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Access:
    token: str | None = None
    origins: tuple[str, ...] = ()  # allowed Origin values; empty: the page's own origin only
    twilio_token: str | None = None  # the Twilio account's auth token
    public_url: str | None = None  # the server's URL as Twilio calls it (wss://host[:port])

    def refusal(self, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        """(HTTP status, reason) when the request may not connect; None when it may."""
        origin = headers.get("origin")
        if origin is not None and not self._origin_ok(origin, headers.get("host", "")):
            return 403, "origin not allowed"
        if urlsplit(path).path == "/v1/twilio" and self.twilio_token is not None:
            return self._twilio_refusal(path, headers)
        if self.token is not None:
            given = bearer(headers.get("authorization")) or query_token(path)
            if given is None or not same(given, self.token):
                return 401, "missing or wrong token"
        return None

    def _origin_ok(self, origin: str, host: str) -> bool:
        if self.origins:
            return "*" in self.origins or origin in self.origins
        return urlsplit(origin).netloc == host

    def _twilio_refusal(self, path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        assert self.twilio_token is not None
        base = (self.public_url or f"wss://{headers.get('host', '')}").rstrip("/")
        expected = twilio_signature(self.twilio_token, base + path)
        given = headers.get("x-twilio-signature", "")
        if not same(given, expected):
            return 403, "bad Twilio signature"
        return None

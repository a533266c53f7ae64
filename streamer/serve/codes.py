"""Close codes and the one error type the protocol raises (docs/server.md lists them)."""

from __future__ import annotations

NORMAL = 1000  # a stop, after the last final and session.closed
GOING_AWAY = 1001  # the server drains (SIGTERM)
POLICY = 1008  # audio before start, config after audio, a start that cannot be used
TOO_BIG = 1009  # a frame over the limit
INTERNAL = 1011
OVERLOADED = 1013
MAX_DURATION = 4008
TOO_FAST = 4029
IDLE = 4031


class ProtocolError(Exception):
    """What a client did wrong: ``code`` (a short name), a one-line message, and the close code
    when it ends the session (``close`` None: a non-fatal error, the session goes on)."""

    def __init__(self, code: str, message: str, close: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close

    @property
    def fatal(self) -> bool:
        return self.close is not None

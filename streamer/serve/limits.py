"""What one server and one session may use, and the pace check of a stream's audio."""

from __future__ import annotations

import os
from dataclasses import dataclass

from streamer.serve.codes import TOO_FAST, ProtocolError

MAX_FRAME_S = 1.0  # a binary frame holds at most this much audio (20-200 ms is the norm)
# The largest frame any start may allow: 1 s of 48 kHz stereo float32. Bigger messages are
# refused by the WebSocket layer itself (close 1009) before they are read whole.
MAX_MESSAGE_BYTES = 48_000 * 2 * 4


def cores() -> int:
    """CPU cores this process may use (the inference pool's size)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 16
    max_duration_s: float = 4 * 3600.0  # wall-clock length of one session
    idle_s: float = 30.0  # no message from the client for this long closes it (4031)
    max_speed: float = 10.0  # audio seconds per wall second a client may send, on average
    burst_s: float = 10.0  # audio a client may send ahead of that pace at once
    queue_frames: int = 64  # frames waiting for inference per session; then reads pause
    min_step_s: float = 0.06  # audio one inference step waits for (or this long) when idle
    retry_after_s: int = 5  # what a refused client is told to wait (HTTP Retry-After)
    workers: int = 0  # inference threads; 0: one per core
    drain_s: float = 10.0  # at the end of a session: time for its last finals to be made and sent

    def pool_size(self) -> int:
        return self.workers or cores()

    def public(self) -> dict[str, float | int]:
        """What ``session.started`` tells the client."""
        return {
            "max_frame_ms": int(MAX_FRAME_S * 1000),
            "max_duration_s": self.max_duration_s,
            "idle_s": self.idle_s,
            "max_speed": self.max_speed,
        }


class Pace:
    """Audio may come faster than real time (a file replayed), but not without bound: at most
    ``burst_s`` ahead of ``max_speed`` times the wall time since the first frame."""

    def __init__(self, max_speed: float, burst_s: float) -> None:
        self.max_speed, self.burst_s = max_speed, burst_s
        self.first: float | None = None
        self.audio_s = 0.0

    def add(self, seconds: float, now: float) -> None:
        if self.first is None:
            self.first = now
        self.audio_s += seconds
        allowed = self.burst_s + self.max_speed * (now - self.first)
        if self.audio_s > allowed:
            raise ProtocolError(
                "too_fast",
                f"audio is coming faster than {self.max_speed:g}x real time "
                f"({self.audio_s:.1f} s of audio in {now - self.first:.1f} s)",
                close=TOO_FAST,
            )

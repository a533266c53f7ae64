"""The client's messages: the ``start`` message (validated whole, or refused in one line) and
the control messages that may follow it (``flush``, ``keepalive``, ``stop``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from streamer.serve.audio import ENCODINGS
from streamer.serve.codes import POLICY, ProtocolError

MIN_RATE_HZ, MAX_RATE_HZ = 8_000, 48_000
MAX_OFFSET_MS = 10**13  # ~317 years: an offset is stream time, not a date
MAX_METADATA_BYTES = 4096
MAX_TEXT_BYTES = 8192  # a text frame longer than this cannot be a message of the protocol
CONTROLS = ("flush", "keepalive", "stop")
START_KEYS = {"type", "audio", "channels", "partials", "offset_ms", "metadata"}


@dataclass(frozen=True)
class StartConfig:
    """What a stream's ``start`` message asked for, checked."""

    encoding: str = "pcm_s16le"
    sample_rate: int = 16_000
    audio_channels: int = 1
    channels: str = "mix"  # "mix" or "each"
    partials: bool = True
    offset_ms: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def effective(self) -> dict[str, Any]:
        """The configuration as the server runs it (for ``session.started``)."""
        return {
            "audio": {
                "encoding": self.encoding,
                "sample_rate": self.sample_rate,
                "channels": self.audio_channels,
            },
            "channels": self.channels,
            "partials": self.partials,
            "offset_ms": self.offset_ms,
            "metadata": self.metadata,
        }


def bad_start(message: str) -> ProtocolError:
    return ProtocolError("invalid_start", message, close=POLICY)


def read_json(text: str) -> dict[str, Any]:
    """A text frame as a JSON object; a non-fatal error for anything else."""
    if len(text) > MAX_TEXT_BYTES:
        raise ProtocolError("invalid_json", f"a text frame over {MAX_TEXT_BYTES} bytes; ignored")
    try:
        value = json.loads(text)
    except ValueError:
        raise ProtocolError("invalid_json", "a text frame that is not JSON was ignored") from None
    if not isinstance(value, dict):
        raise ProtocolError("invalid_json", "a message must be a JSON object; ignored")
    return value


def message_type(text: str) -> tuple[str, dict[str, Any]]:
    """(type, message) of a text frame: a JSON object with ``type``, or a bare control word."""
    word = text.strip()
    if word in CONTROLS:
        return word, {"type": word}
    message = read_json(text)
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("unknown_type", "a message without a string \"type\" was ignored")
    return kind, message


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise bad_start(f"{name} must be a whole number in {low}..{high} (got {value!r})")
    return value


def _audio(audio: object) -> tuple[str, int, int]:
    if not isinstance(audio, dict):
        raise bad_start('"audio" must be an object: {"encoding", "sample_rate", "channels"}')
    unknown = set(audio) - {"encoding", "sample_rate", "channels"}
    if unknown:
        raise bad_start(f"unknown audio key(s): {', '.join(sorted(map(str, unknown)))}")
    encoding = audio.get("encoding", "pcm_s16le")
    if encoding not in ENCODINGS:
        raise bad_start(f"audio.encoding must be one of {', '.join(ENCODINGS)} (got {encoding!r})")
    rate = _whole(audio.get("sample_rate"), "audio.sample_rate", MIN_RATE_HZ, MAX_RATE_HZ)
    channels = _whole(audio.get("channels", 1), "audio.channels", 1, 2)
    return encoding, rate, channels


def parse_start(message: dict[str, Any]) -> StartConfig:
    """The ``start`` message checked whole; a fatal :class:`ProtocolError` (1008) naming the
    first thing wrong."""
    unknown = set(message) - START_KEYS
    if unknown:
        raise bad_start(f"unknown start key(s): {', '.join(sorted(map(str, unknown)))}")
    encoding, rate, audio_channels = _audio(message.get("audio"))
    channels = message.get("channels", "mix")
    if channels not in ("mix", "each"):
        raise bad_start(f'"channels" must be "mix" or "each" (got {channels!r})')
    partials = message.get("partials", True)
    if not isinstance(partials, bool):
        raise bad_start(f'"partials" must be true or false (got {partials!r})')
    offset_ms = _whole(message.get("offset_ms", 0), "offset_ms", 0, MAX_OFFSET_MS)
    metadata = message.get("metadata", {})
    if not isinstance(metadata, dict):
        raise bad_start('"metadata" must be an object')
    if len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise bad_start(f'"metadata" must be at most {MAX_METADATA_BYTES} bytes of JSON')
    return StartConfig(encoding, rate, audio_channels, channels, partials, offset_ms, metadata)

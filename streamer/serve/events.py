"""The JSON events the server sends: a result carries the fields of a CSV row
(:mod:`streamer.sinks.rows`), with times in milliseconds of stream audio plus the client's
``offset_ms``, so a client that reconnects with the offset it reached keeps one timeline."""

from __future__ import annotations

import json
from typing import Any

from streamer.results import Prediction
from streamer.sinks.rows import field_names, row_values

TRIGGERS = ("vad", "flush", "max_len", "stop")


def to_ms(seconds: float, offset_ms: int) -> int:
    return offset_ms + round(seconds * 1000)


def result_event(
    prediction: Prediction,
    uncertain_below: float,
    offset_ms: int,
    trigger: str | None = None,
    track: str | None = None,
    queued_ms: float = 0.0,
) -> dict[str, Any]:
    """A ``final`` or ``partial`` event: the row's fields, start/end in ms; a final says what
    closed it (``trigger``); ``queued_ms``: how long its audio waited in the server's queue
    before the engine took it (``latency_ms`` counts from then); a Twilio stream's result
    says its ``track``."""
    names = field_names(prediction.labels, channel=True)
    row = dict(zip(names, row_values(prediction, uncertain_below, channel=True), strict=True))
    start_s, end_s = row.pop("start_s"), row.pop("end_s")
    event: dict[str, Any] = {
        "type": "final" if prediction.final else "partial",
        "start_ms": to_ms(start_s, offset_ms),
        "end_ms": to_ms(end_s, offset_ms),
        **row,
    }
    event["queued_ms"] = round(queued_ms, 1)
    if prediction.final:
        event["trigger"] = "max_len" if prediction.split else (trigger or "vad")
    if track is not None:
        event["track"] = track
    return event


def speech_started(start_s: float, offset_ms: int, channel: int | None) -> dict[str, Any]:
    return {"type": "speech.started", "start_ms": to_ms(start_s, offset_ms), "channel": channel}


def error(code: str, message: str, close: int | None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "error", "code": code, "message": message}
    event["fatal"] = close is not None
    if close is not None:
        event["close_code"] = close
    return event


def warning(code: str, message: str) -> dict[str, Any]:
    return {"type": "warning", "code": code, "message": message}


def closed(reason: str, audio_ms: int, utterances: int, partials_dropped: int) -> dict[str, Any]:
    return {
        "type": "session.closed",
        "reason": reason,
        "audio_ms": audio_ms,
        "utterances": utterances,
        "partials_dropped": partials_dropped,
    }


def dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), allow_nan=False)

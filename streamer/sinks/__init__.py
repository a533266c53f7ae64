"""Sinks consume predictions: CSV/JSONL logs, headless stdout lines, the live view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from streamer.results import Prediction


class Sink(Protocol):
    def write(self, prediction: Prediction) -> None: ...

    def close(self) -> None: ...

"""ser-live: speech emotion, live. The Python API is :class:`EmotionStream` (see docs/api.md).

Names are loaded on first use, so ``import streamer`` (and every command's ``--help``) stays
free of numpy and onnxruntime until they are needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamer.engine.emotion_stream import EmotionStream
    from streamer.results import Prediction

__all__ = ["EmotionStream", "Prediction"]


def __getattr__(name: str) -> Any:
    if name == "EmotionStream":
        from streamer.engine.emotion_stream import EmotionStream

        return EmotionStream
    if name == "Prediction":
        from streamer.results import Prediction

        return Prediction
    raise AttributeError(f"module 'streamer' has no attribute {name!r}")

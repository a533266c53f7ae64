"""What the ser-serve tests compare: EmotionStream's finals against the server's events."""

from __future__ import annotations

import numpy as np

from streamer.engine.emotion_stream import EmotionStream


def expected_finals(classifier, settings, audio: np.ndarray, rate: int, **kwargs) -> list:
    """What EmotionStream makes of the same samples, fed whole."""
    stream = EmotionStream(classifier.for_new_stream(), settings=settings, sample_rate_hz=rate,
                           partial_every_s=0, **kwargs)
    return [p for p in stream.feed(audio) + stream.finish() if p.final]


def finals_of(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "final"]


def same_finals(events: list[dict], predictions: list, offset_ms: int = 0) -> None:
    got = finals_of(events)
    assert len(got) == len(predictions), (len(got), len(predictions))
    for event, p in zip(got, predictions, strict=True):
        assert event["start_ms"] == offset_ms + round(p.start_s * 1000)
        assert event["end_ms"] == offset_ms + round(p.end_s * 1000)
        assert event["label"] == p.label
        probs = [event[f"p_{label}"] for label in p.labels]
        assert np.allclose(probs, p.probabilities, atol=1e-6)



def wait_until(condition, timeout_s: float = 5.0) -> bool:  # noqa: ANN001
    """Poll ``condition()`` until it holds (True) or ``timeout_s`` pass (False)."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True

"""Speech/non-speech decisions per frame with webrtcvad."""

from __future__ import annotations

import numpy as np
import webrtcvad


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, clipping instead of wrapping around."""
    return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)


class FrameVad:
    """Classifies consecutive frames of ``frame_ms`` at ``sample_rate_hz`` as speech or not."""

    def __init__(self, sample_rate_hz: int, frame_ms: int, aggressiveness: int) -> None:
        if frame_ms not in (10, 20, 30):
            raise ValueError("webrtcvad frames are 10, 20 or 30 ms")
        self.sample_rate_hz = sample_rate_hz
        self.frame_len = sample_rate_hz * frame_ms // 1000
        self.aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def decide(self, frames: np.ndarray) -> np.ndarray:
        """``frames``: (n, frame_len) float32 -> (n,) bool, one webrtcvad call per frame."""
        n = len(frames)
        # One conversion for the whole chunk; frames are then zero-copy slices of it.
        data = memoryview(to_pcm16(frames).tobytes())
        step = 2 * self.frame_len
        is_speech, rate = self._vad.is_speech, self.sample_rate_hz
        return np.fromiter(
            (is_speech(data[i : i + step], rate) for i in range(0, n * step, step)),
            dtype=bool,
            count=n,
        )

    def reset(self) -> None:
        # webrtcvad keeps adaptive noise estimates; a fresh instance forgets them.
        self._vad = webrtcvad.Vad(self.aggressiveness)

"""Channel downmix and streaming resampling to the model rate, done once at the source."""

from __future__ import annotations

import numpy as np
import soxr


def downmix(block: np.ndarray) -> np.ndarray:
    """(frames, channels) or (frames,) of any numeric dtype -> mono float32."""
    block = np.asarray(block)
    if block.ndim == 2:
        block = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    return block.astype(np.float32, copy=False)


class StreamResampler:
    """soxr's streaming resampler (continuous across blocks, no edge clicks); identity if equal."""

    def __init__(self, in_rate: int, out_rate: int, channels: int = 1) -> None:
        """``channels`` > 1: blocks are (frames, channels), every channel resampled alike."""
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.channels = channels
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, channels, "float32")
        )

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return block
        return self._stream.resample_chunk(np.ascontiguousarray(block, dtype=np.float32), last=last)

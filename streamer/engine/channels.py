"""The channel choice applied, then streaming resampling to the model's rate: done once, here,
for every input (files, stdin, the microphone, blocks fed to the Python API).

Blocks come in as ``(frames, channels)`` (or 1-D for one channel) at the input's rate and go out
as ``(frames, streams)`` float32 at the model's rate, where ``streams`` is 1 for "mix" or a
channel number and the channel count for "each" (see :mod:`streamer.sources.channel_choice`).
"""

from __future__ import annotations

import numpy as np
import soxr

from streamer.sources.channel_choice import ChannelMode


def downmix(block: np.ndarray) -> np.ndarray:
    """(frames, channels) or (frames,) of any numeric dtype -> mono float32."""
    block = np.asarray(block)
    if block.ndim == 2:
        block = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    return block.astype(np.float32, copy=False)


def select_channels(block: np.ndarray, mode: ChannelMode) -> np.ndarray:
    """(frames, channels) -> what ``mode`` keeps, float32 (1-D, or 2-D for "each")."""
    block = np.asarray(block)
    if block.ndim == 1:
        block = block[:, None]
    if mode == "mix":
        return downmix(block)
    if mode == "each":
        return np.ascontiguousarray(block, dtype=np.float32)
    return np.ascontiguousarray(block[:, int(mode) - 1], dtype=np.float32)


class StreamResampler:
    """soxr's streaming resampler (continuous across blocks, no edge clicks); identity if equal.

    ``channels`` > 1 takes and gives 2-D ``(frames, channels)`` blocks, each channel resampled
    in the same stream."""

    def __init__(self, in_rate: int, out_rate: int, channels: int = 1) -> None:
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


class ChannelShaper:
    """Channel choice then resampling, for blocks of ``in_channels`` at ``in_rate``.

    An input of one channel is taken as already chosen (a microphone opened on the channel
    asked for): it is passed on as it is, whatever the mode."""

    def __init__(self, mode: ChannelMode, in_channels: int, in_rate: int, out_rate: int) -> None:
        self.mode = mode if in_channels > 1 or mode == "each" else "mix"
        self.in_channels = in_channels
        self.streams = in_channels if mode == "each" else 1
        self._resampler = StreamResampler(in_rate, out_rate, self.streams)

    def process(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """``block`` -> (frames, streams) float32 at the output rate."""
        chosen = select_channels(block, self.mode)
        out = self._resampler.process(chosen, last=last)
        return out.reshape(len(out), self.streams)

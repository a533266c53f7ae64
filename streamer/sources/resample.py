"""Channel choice and streaming resampling to the model rate, done once at the source.

A source hands on one of three shapes, chosen by the user (``--channel N``, ``--channels``):

- ``"mix"`` (the default): the downmix, 1-D float32 blocks;
- ``N`` (an int, 1-based): only channel N, 1-D float32 blocks;
- ``"each"``: every channel, 2-D float32 blocks ``(frames, channels)``.
"""

from __future__ import annotations

import numpy as np
import soxr

from streamer.sources import InputError

ChannelMode = str | int  # "mix", "each", or a 1-based channel number


def downmix(block: np.ndarray) -> np.ndarray:
    """(frames, channels) or (frames,) of any numeric dtype -> mono float32."""
    block = np.asarray(block)
    if block.ndim == 2:
        block = block.mean(axis=1, dtype=np.float32) if block.shape[1] > 1 else block[:, 0]
    return block.astype(np.float32, copy=False)


def channels_handed_on(mode: ChannelMode, available: int, what: str) -> int:
    """How many channels a source with ``available`` input channels hands on for ``mode``
    (1, or ``available`` for "each"); a channel the input lacks is a one-line InputError naming
    ``what`` (e.g. "call.wav", "input device 3: USB Headset")."""
    if mode == "mix":
        return 1
    if mode == "each":
        return available
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise ValueError(f"channel mode must be 'mix', 'each' or a channel number, not {mode!r}")
    if not 1 <= mode <= available:
        have = f"{available} channel{'s' if available != 1 else ''}"
        raise InputError(f"--channel {mode}: {what} has {have} (channels count from 1)")
    return 1


def describe_channels(mode: ChannelMode, available: int) -> str:
    """The choice, for a source's description ("" for the downmix of a mono input)."""
    if mode == "each":
        return f"each of {available} channels" if available != 1 else "each channel (1)"
    if mode == "mix":
        return f"mix of {available} channels" if available > 1 else ""
    return f"channel {mode} of {available}"


def select_channels(block: np.ndarray, mode: ChannelMode) -> np.ndarray:
    """(frames, channels) -> what ``mode`` hands on, float32 (1-D, or 2-D for "each")."""
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


class ChannelResampler:
    """Channel choice then resampling, for blocks read as ``(frames, in_channels)``."""

    def __init__(self, mode: ChannelMode, in_channels: int, in_rate: int, out_rate: int) -> None:
        self.mode = mode
        self.channel_count = in_channels if mode == "each" else 1
        self._resampler = StreamResampler(in_rate, out_rate, self.channel_count)
        self._two_d = mode == "each"

    def process(self, raw: np.ndarray, last: bool = False) -> np.ndarray:
        block = select_channels(raw, self.mode)
        out = self._resampler.process(block, last=last)
        if self._two_d and out.ndim == 1:  # soxr gives 1-D for a single channel
            out = out[:, None]
        return out

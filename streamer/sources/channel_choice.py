"""Which channels of an input are analysed — the user's choice (``--channel N``, ``--channels``),
checked against what the input has when it is opened:

- ``"mix"`` (the default): the downmix, one stream;
- ``N`` (an int, 1-based): only channel N, one stream;
- ``"each"``: every channel, one stream each.

Sources only check the choice (so a channel the input lacks is refused in one line before the
run starts) and describe it; the engine (:mod:`streamer.engine.channels`) applies it.
"""

from __future__ import annotations

from streamer.errors import ConfigError, InputError

ChannelMode = str | int  # "mix", "each", or a 1-based channel number


def check_channel_mode(mode: ChannelMode) -> ChannelMode:
    """``mode`` if it is one of the three shapes, else a one-line ConfigError."""
    if mode in ("mix", "each"):
        return mode
    if isinstance(mode, int) and not isinstance(mode, bool) and mode >= 1:
        return mode
    raise ConfigError(f'channels must be "mix", "each" or a channel number from 1 (got {mode!r})')


def streams_for(mode: ChannelMode, available: int, what: str) -> int:
    """How many streams an input with ``available`` channels gives for ``mode`` (1, or
    ``available`` for "each"); a channel the input lacks is a one-line InputError naming
    ``what`` (e.g. "call.wav", "input device 3: USB Headset")."""
    check_channel_mode(mode)
    if mode == "mix":
        return 1
    if mode == "each":
        return available
    if not 1 <= int(mode) <= available:
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

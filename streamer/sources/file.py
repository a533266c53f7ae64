"""Replay of an audio file (WAV, FLAC, OGG, ... anything libsndfile reads) through the pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from threading import Event

import numpy as np
import soundfile as sf

from streamer.native_stderr import NativeStderr
from streamer.sources import InputError, SourceError, SourceStats
from streamer.sources.raw import RawFormat
from streamer.sources.resample import (
    ChannelMode,
    ChannelResampler,
    channels_handed_on,
    describe_channels,
)

# Beyond these a header is damaged (or the file is not audio): a rate of 1 Hz would make the
# resampler turn a few kB into hours of audio.
MIN_RATE_HZ, MAX_RATE_HZ = 1000, 768_000
MAX_CHANNELS = 1024


def _check_plausible(path: Path | str, file: sf.SoundFile) -> None:
    if not MIN_RATE_HZ <= file.samplerate <= MAX_RATE_HZ:
        raise InputError(
            f"cannot read {path} as audio (sample rate {file.samplerate} Hz is outside "
            f"{MIN_RATE_HZ}..{MAX_RATE_HZ}; damaged header?)"
        )
    if not 1 <= file.channels <= MAX_CHANNELS:
        raise InputError(
            f"cannot read {path} as audio ({file.channels} channels; damaged header?)"
        )


def open_reason(exc: BaseException) -> str:
    """libsndfile's reason for refusing a file, without the 'Error opening ...:' prefix."""
    return str(exc).split(":")[-1].strip() or "unknown format"


def _open(path: Path, raw: RawFormat | None = None) -> sf.SoundFile:
    if not path.exists():
        raise InputError(f"input file not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a directory, not an audio file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"input file is empty: {path}")
    try:
        return sf.SoundFile(str(path), **(raw.soundfile_args() if raw else {}))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise InputError(f"cannot read {path} as audio ({open_reason(exc)})") from None


def pace(
    chunks: Iterator[np.ndarray], realtime: bool, rate_hz: int, stop: Event
) -> Iterator[np.ndarray]:
    """Hands ``chunks`` (at ``rate_hz``) on as they come, or, ``realtime``, no faster than a
    microphone would: a block once its last sample would have been captured."""
    started = time.monotonic()
    emitted = 0
    for block in chunks:
        if not len(block):
            continue
        if realtime:
            due = started + (emitted + len(block)) / rate_hz
            delay = due - time.monotonic()
            if delay > 0 and stop.wait(delay):
                return
        emitted += len(block)
        yield block


# Replaying as fast as possible, the file is read in chunks this long: the pipeline accepts any
# block size and gives the same rows, and per-block costs (a libsndfile call, a level, the
# segmenter's framing) then come once per few seconds instead of once per 30 ms.
FAST_CHUNK_S = 8.0


class FileSource:
    """Reads ``path`` in blocks, picks channels, resamples to ``sample_rate_hz``, optionally paces.

    ``realtime`` sleeps so that audio comes out no faster than it would from a microphone, in
    ``block_ms`` blocks; otherwise chunks of ``chunk_s`` come as fast as the pipeline takes
    them. ``channels``: "mix" (the downmix, 1-D blocks), a 1-based channel number (that channel,
    1-D) or "each" (2-D ``(frames, channels)`` blocks); ``channel_count`` is how many channels
    the blocks carry. ``raw``: the file is headerless PCM in this format. ``start_time``: when
    the recording began (``--start-time``), instead of the file's modification time.
    """

    def __init__(
        self,
        path: Path | str,
        sample_rate_hz: int,
        block_ms: int,
        realtime: bool,
        chunk_s: float = FAST_CHUNK_S,
        channels: ChannelMode = "mix",
        raw: RawFormat | None = None,
        start_time: datetime | None = None,
    ) -> None:
        self.path = Path(path)
        # Decoders (libmpg123 above all) print to fd 2 from open to close; keep it off stderr.
        NativeStderr.acquire()
        try:
            self._file = _open(self.path, raw)
            _check_plausible(self.path, self._file)
            self.channel_count = channels_handed_on(channels, self._file.channels, self.path.name)
        except BaseException:
            if hasattr(self, "_file"):
                self._file.close()
            NativeStderr.release()
            raise
        self._released = False
        self.sample_rate_hz = sample_rate_hz
        self.realtime = realtime
        self.channel_mode = channels
        self.start_time = start_time
        self.native_rate = self._file.samplerate
        self.channels = self._file.channels
        block_s = block_ms / 1000 if realtime else chunk_s
        self.block_frames = max(1, int(self.native_rate * block_s))
        self.duration_s = self._file.frames / max(1, self.native_rate)
        self.stats = SourceStats()
        kind = raw.describe() if raw else (
            f"{self._file.format} {self._file.subtype}, {self.native_rate} Hz, "
            f"{self.channels} ch"
        )
        chosen = describe_channels(channels, self.channels)
        self.description = (
            f"{self.path.name} ({kind}, {self.duration_s:.1f} s{', ' + chosen if chosen else ''})"
        )

    @property
    def recording_start(self) -> datetime:
        """When the recording began: ``start_time`` if given, else the file's modification time
        taken as its end (recorders write the last sample last) less its duration; local time
        zone."""
        if self.start_time is not None:
            return self.start_time
        modified = datetime.fromtimestamp(self.path.stat().st_mtime).astimezone()
        return modified - timedelta(seconds=self.duration_s)

    def _chunks(self, stop: Event) -> Iterator[np.ndarray]:
        shaper = ChannelResampler(
            self.channel_mode, self.channels, self.native_rate, self.sample_rate_hz
        )
        while not stop.is_set():
            try:
                raw = self._file.read(self.block_frames, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                raise SourceError(f"error reading {self.path}: {reason}") from None
            last = len(raw) < self.block_frames
            yield shaper.process(raw, last=last)
            if last:
                return

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        # A microphone hands a block over once its last sample is captured.
        yield from pace(self._chunks(stop), self.realtime, self.sample_rate_hz, stop)

    def close(self) -> None:
        self._file.close()
        if not self._released:
            self._released = True
            NativeStderr.release()

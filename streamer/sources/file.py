"""Replay of an audio file (WAV, FLAC, OGG, ... anything libsndfile reads) through the pipeline."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from threading import Event

import numpy as np
import soundfile as sf

from streamer.errors import reason
from streamer.sources import InputError, InputTruncated, SourceError, SourceStats
from streamer.sources.bad_samples import replace_bad_samples
from streamer.sources.channel_choice import ChannelMode, describe_channels, streams_for
from streamer.sources.formats import read_head, unsupported_reason
from streamer.sources.raw import RawFormat

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


# libsndfile logs a header size that does not match the file as "data : 2816000 (should be
# 15040)": the header's claim, then what is there. Sizes this large mean "unknown length" (what
# recorders writing to a pipe put in the header), not a claim.
_SIZE_CLAIM = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)
_DATA_CHUNKS = ("data", "ssnd", "data size")
_UNKNOWN_SIZE = 0x7FFF0000


def claimed_frames(file: sf.SoundFile) -> int | None:
    """How many frames the header promises, when it promises more than the file holds (a file
    cut short); None when the header and the file agree. libsndfile reads what is there and
    reports only that, so the claim is taken from its log of the header (a data chunk's size
    when it names one, else the container's, scaled to frames)."""
    claims = [
        (key.strip().lower(), int(said), int(found))
        for key, said, found in _SIZE_CLAIM.findall(file.extra_info)
    ]
    claims = [c for c in claims if c[2] < c[1] < _UNKNOWN_SIZE]
    if not claims or file.frames <= 0:
        return None
    data = [c for c in claims if c[0] in _DATA_CHUNKS]
    _, said, found = (data or claims)[0]
    if not data:  # a container's size counts its header too: a lower bound on what is missing
        return file.frames + round((said - found) * file.frames / max(found, 1))
    return round(file.frames * said / max(found, 1))


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
        # bytes: a name that is not UTF-8 opens too (libsndfile takes the bytes as they are)
        return sf.SoundFile(os.fsencode(path), **(raw.soundfile_args() if raw else {}))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        unsupported = None if raw else unsupported_reason(path, read_head(path))
        if unsupported is not None:  # e.g. a phone's M4A: say how to convert it
            raise InputError(f"cannot read {path}: {unsupported}") from None
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
    """Reads ``path`` in blocks at its own rate and channel count, optionally paced.

    Blocks are ``(frames, channels)`` float32 at ``rate_hz``; the engine applies the channel
    choice and resamples. ``realtime`` sleeps so that audio comes out no faster than it would
    from a microphone, in ``block_ms`` blocks; otherwise chunks of ``chunk_s`` come as fast as
    the engine takes them. ``channels``: the channel choice, checked here against the file
    ("mix", a 1-based channel number, or "each"); ``streams`` is how many streams it makes.
    ``raw``: the file is headerless PCM in this format. ``start_time``: when the recording began
    (``--start-time``), instead of the file's modification time.
    """

    def __init__(
        self,
        path: Path | str,
        block_ms: int,
        realtime: bool,
        chunk_s: float = FAST_CHUNK_S,
        channels: ChannelMode = "mix",
        raw: RawFormat | None = None,
        start_time: datetime | None = None,
    ) -> None:
        self.path = Path(path)
        self._file = _open(self.path, raw)
        try:
            _check_plausible(self.path, self._file)
            self.streams = streams_for(channels, self._file.channels, self.path.name)
        except BaseException:
            self._file.close()
            raise
        self.realtime = realtime
        self.channel_mode = channels
        self.start_time = start_time
        self.rate_hz = self._file.samplerate
        self.channels = self._file.channels
        block_s = block_ms / 1000 if realtime else chunk_s
        self.block_frames = max(1, int(self.rate_hz * block_s))
        self.duration_s = self._file.frames / max(1, self.rate_hz)
        # What the header promises: more than the file holds when it was cut short on disk.
        self.expected_frames = claimed_frames(self._file) or self._file.frames
        self.frames_read = 0
        self.stats = SourceStats()
        kind = raw.describe() if raw else (
            f"{self._file.format} {self._file.subtype}, {self.rate_hz} Hz, {self.channels} ch"
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
        size = self.block_frames
        careful = min(size, max(1, self.rate_hz // 10))
        while not stop.is_set():
            try:
                block = self._file.read(size, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
                if size > careful and self._rewind():  # keep what decodes before the damage
                    size = careful
                    continue
                self._check_complete(f"decoder error: {reason(exc)}")
                raise SourceError(f"error reading {self.path}: {reason(exc)}") from None
            self.frames_read += len(block)
            yield replace_bad_samples(block, self.stats)
            if len(block) < size:
                if not stop.is_set():
                    self._check_complete()
                return

    def _rewind(self) -> bool:
        """Back to the first frame not yet handed on, after a failed read; False if the
        decoder cannot seek."""
        try:
            self._file.seek(self.frames_read)
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
            return False
        return True

    def _check_complete(self, why: str = "") -> None:
        """InputTruncated when fewer frames came than the header promised (the file was cut
        short, before or while it was read); everything read has been handed on by then."""
        if self.frames_read >= self.expected_frames:
            return
        rate = max(1, self.rate_hz)
        raise InputTruncated(
            f"{self.path} is truncated: its audio ends at {self.frames_read / rate:.2f} s, "
            f"the header says {self.expected_frames / rate:.2f} s"
            + (f" ({why})" if why else "")
        )

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        # A microphone hands a block over once its last sample is captured.
        yield from pace(self._chunks(stop), self.realtime, self.rate_hz, stop)

    def close(self) -> None:
        self._file.close()

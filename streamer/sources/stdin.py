"""A recording piped into ``--input -``: ``ffmpeg -i call.m4a -f wav - | ser-live --input -``.

What libsndfile can decode from a pipe (measured with libsndfile 1.2.2, ``cat x | ...``):

- WAV, also ffmpeg's streamed WAV whose sizes are unknown (0xFFFFFFFF): streamed as it comes;
- OGG (Vorbis, Opus): streamed as it comes;
- FLAC and MP3 need to seek (libsndfile's FLAC reader loses sync on a pipe, its MP3 reader drops
  the end): they are read to the end of the pipe into a temporary file first, then analysed;
- raw PCM (``--raw-rate``, ``--raw-format``, ``--raw-channels``): streamed as it comes.

Threads, so that Ctrl-C is never stuck behind a read that waits for the pipe: a *pump* copies
stdin (``select`` with a short timeout, so it notices a close) into a private pipe, and a
*decoder* reads that pipe through libsndfile and queues float32 blocks. The consumer (the
pipeline thread) only waits on the queue, a tenth of a second at a time, checking ``stop``. On
close the pump closes its end, libsndfile sees the end of the stream, and both threads finish.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from threading import Event
from typing import Any

import numpy as np
import soundfile as sf

from streamer.errors import reason
from streamer.sources import InputError, SourceError, SourceStats
from streamer.sources.bad_samples import replace_bad_samples
from streamer.sources.channel_choice import ChannelMode, describe_channels, streams_for
from streamer.sources.file import FAST_CHUNK_S, _check_plausible, open_reason, pace
from streamer.sources.formats import unsupported_reason
from streamer.sources.raw import RawFormat

POLL_S = 0.1  # threads and the consumer re-check for a stop or a close this often
PEEK_BYTES = 12  # enough to tell the container by its magic bytes
QUEUE_BLOCKS = 64  # decoded blocks waiting for the pipeline; the pipe pauses beyond that
NAME = "stdin"


def needs_seeking(head: bytes) -> str | None:
    """The format's name if libsndfile cannot decode it from a pipe (it has to seek)."""
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    return None


def _read_some(fd: int, n: int, give_up: Callable[[], bool]) -> bytes | None:
    """Up to ``n`` bytes from ``fd`` as soon as some are there; b"" at the end; None when
    ``give_up()`` turns true while waiting."""
    while not give_up():
        ready, _, _ = select.select([fd], [], [], POLL_S)
        if ready:
            return os.read(fd, n)
    return None


class StdinSource:
    """Audio from a pipe (``fd``, stdin by default), in blocks as :class:`FileSource` gives them.

    ``channels``/``streams``/``raw``/``realtime`` as for a file. The stream has no
    modification time: ``recording_start`` is ``start_time`` (``--start-time``) or None, and
    rows then carry the machine's clock. ``stop``: the run's stop event, so that a Ctrl-C while
    waiting for the first bytes of the pipe ends the run (it then yields nothing).
    """

    def __init__(
        self,
        block_ms: int,
        realtime: bool = False,
        channels: ChannelMode = "mix",
        raw: RawFormat | None = None,
        start_time: datetime | None = None,
        stop: Event | None = None,
        fd: int | None = None,
        chunk_s: float = FAST_CHUNK_S,
    ) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.block_ms = block_ms
        self.realtime = realtime
        self.channel_mode = channels
        self.start_time = start_time
        self.chunk_s = chunk_s
        self.stats = SourceStats()
        self.streams = 1
        self.channels = 1
        self.rate_hz = 0  # known once the stream's header is read
        self.duration_s = None
        self._stop = stop or Event()
        self._closing = Event()
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_BLOCKS)
        self._file: sf.SoundFile | None = None
        self._spool: Any = None
        self._threads: list[threading.Thread] = []
        self._proxy: tuple[int, int] | None = None
        self._stopped_early = False
        try:
            self._open(raw)
        except BaseException:
            self.close()
            raise

    # --- opening ---------------------------------------------------------------------------

    def _give_up(self) -> bool:
        return self._stop.is_set() or self._closing.is_set()

    def _open(self, raw: RawFormat | None) -> None:
        with contextlib.suppress(OSError, ValueError):
            if os.isatty(self.fd):
                raise InputError(
                    "--input -: stdin is a terminal; pipe a recording into it "
                    "(e.g. ffmpeg -i call.m4a -f wav - | ser-live --input -)"
                )
        head = b""
        while len(head) < PEEK_BYTES:
            more = self._read_or_fail(PEEK_BYTES - len(head))
            if more is None:
                return self._stopped_before_audio()
            if not more:
                break
            head += more
        if not head:
            raise InputError("--input -: stdin is empty (nothing was piped in)")
        unsupported = None if raw else unsupported_reason(None, head)
        if unsupported is not None:  # e.g. an M4A piped in as it is: say how to convert it
            raise InputError(f"cannot read {NAME}: {unsupported}")
        seeking = None if raw else needs_seeking(head)
        if seeking:
            opener = self._spooled(head, seeking)
            if opener is None:
                self._stopped_early = True
                self.description = f"{NAME} (stopped while reading {seeking} to its end)"
                return None
            how = "read to the end first"
        else:
            read_end, write_end = os.pipe()
            self._proxy = (read_end, write_end)
            self._start(self._pump, head, write_end)
            args = raw.soundfile_args() if raw else {}

            def opener() -> sf.SoundFile:
                return sf.SoundFile(read_end, closefd=False, **args)

            how = "streamed"
        opened = Event()
        outcome: list[Any] = []
        self._start(self._decode, opener, opened, outcome)
        while not opened.wait(POLL_S):
            if self._stop.is_set():
                return self._stopped_before_audio()
        if isinstance(outcome[0], BaseException):
            exc = outcome[0]
            if isinstance(exc, SourceError):
                raise exc
            raise InputError(f"cannot read {NAME} as audio ({open_reason(exc)})")
        file = self._file = outcome[0]
        self.rate_hz, self.channels = file.samplerate, file.channels
        self.streams = streams_for(self.channel_mode, self.channels, NAME)
        kind = raw.describe() if raw else (
            f"{file.format} {file.subtype}, {self.rate_hz} Hz, {self.channels} ch"
        )
        chosen = describe_channels(self.channel_mode, self.channels)
        self.description = f"{NAME} ({kind}, {how}{', ' + chosen if chosen else ''})"

    def _read_or_fail(self, n: int) -> bytes | None:
        try:
            return _read_some(self.fd, n, self._give_up)
        except OSError as exc:
            raise InputError(f"cannot read {NAME}: {exc.strerror or exc}") from None

    def _stopped_before_audio(self) -> None:
        self._stopped_early = True
        self.description = f"{NAME} (stopped before any audio arrived)"

    def _spooled(self, head: bytes, kind: str) -> Callable[[], sf.SoundFile] | None:
        """Copy the whole pipe into a temporary file (for a format that needs seeking); None
        when stopped meanwhile."""
        # Closed in close(): the decoder reads it by name for the rest of the run.
        self._spool = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="ser-live-stdin-", suffix=".audio"
        )
        try:
            self._spool.write(head)
            while True:
                more = self._read_or_fail(1 << 16)
                if more is None:
                    return None
                if not more:
                    break
                self._spool.write(more)
            self._spool.flush()
        except OSError as exc:  # e.g. no room in the temporary folder
            raise SourceError(
                f"cannot buffer {kind} from {NAME} in {tempfile.gettempdir()}: "
                f"{exc.strerror or exc} (pipe WAV instead: ffmpeg ... -f wav -)"
            ) from None
        name = self._spool.name
        return lambda: sf.SoundFile(name)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"stdin-{target.__name__}")
        thread.daemon = True  # a pipe that never ends must not keep the process alive
        thread.start()
        self._threads.append(thread)

    # --- the threads -----------------------------------------------------------------------

    def _pump(self, head: bytes, write_end: int) -> None:
        """stdin -> the private pipe, until stdin ends or the source closes."""
        try:
            # Non-blocking: a decoder that has stopped reading never leaves the pump stuck.
            os.set_blocking(write_end, False)
            data = head
            while True:
                while data:
                    _, ready, _ = select.select([], [write_end], [], POLL_S)
                    if self._closing.is_set():
                        return
                    if ready:
                        with contextlib.suppress(BlockingIOError):
                            data = data[os.write(write_end, data) :]
                data = _read_some(self.fd, 1 << 16, self._closing.is_set) or b""
                if not data:
                    return
        except OSError:  # stdin or the private pipe failed: the decoder sees the end
            return
        finally:
            os.close(write_end)

    def _decode(self, opener: Callable[[], sf.SoundFile], opened: Event, out: list[Any]) -> None:
        try:
            file = opener()
            _check_plausible(NAME, file)
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, SourceError) as exc:
            out.append(exc)
            opened.set()
            return
        out.append(file)
        opened.set()
        frames = max(1, file.samplerate * self.block_ms // 1000)
        try:
            while not self._closing.is_set():
                block = file.read(frames, dtype="float32", always_2d=True)
                if len(block):
                    self._put(block)
                if len(block) < frames:
                    break
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
            self._put(SourceError(f"error reading {NAME}: {reason(exc)}"))
        self._put(None)  # the end

    def _put(self, item: Any) -> None:
        while not self._closing.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    # --- the consumer ----------------------------------------------------------------------

    @property
    def recording_start(self) -> datetime | None:
        """``start_time`` if given; a pipe has no modification time to go by."""
        return self.start_time

    def _native_blocks(self, stop: Event) -> Iterator[tuple[np.ndarray, bool]]:
        """(block, last) as decoded; consecutive waiting blocks are joined (up to ``chunk_s``)
        unless paced, so a fast pipe gives big chunks and a live one small ones."""
        limit = max(1, int(self.chunk_s * self.rate_hz))
        while not stop.is_set():
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if item is None:
                yield np.zeros((0, self.channels), np.float32), True
                return
            if isinstance(item, SourceError):
                raise item
            parts, size = [item], len(item)
            while not self.realtime and size < limit:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(more, np.ndarray):
                    self._queue_back(more)
                    break
                parts.append(more)
                size += len(more)
            yield (parts[0] if len(parts) == 1 else np.concatenate(parts)), False

    def _queue_back(self, item: Any) -> None:
        """Put an end marker or an error back at the front: nothing follows it."""
        with self._queue.mutex:
            self._queue.queue.appendleft(item)

    def _chunks(self, stop: Event) -> Iterator[np.ndarray]:
        if self._stopped_early:
            return
        for block, _last in self._native_blocks(stop):
            yield replace_bad_samples(block, self.stats)

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        yield from pace(self._chunks(stop), self.realtime, max(1, self.rate_hz), stop)

    def close(self) -> None:
        """Stop the threads (within a poll), then release the pipe, the file and stderr."""
        self._closing.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        if all(not t.is_alive() for t in self._threads):
            if self._file is not None:
                self._file.close()
                self._file = None
            if self._proxy is not None:
                with contextlib.suppress(OSError):
                    os.close(self._proxy[0])
                self._proxy = None
        if self._spool is not None:
            with contextlib.suppress(OSError):
                self._spool.close()
            self._spool = None


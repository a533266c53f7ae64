"""Keeps what C libraries print on file descriptor 2 off the user's terminal.

PortAudio and ALSA (``Expression '...' failed in pa_linux_alsa.c``, ``ALSA lib pcm.c: ...``) and
libsndfile's MP3 decoder libmpg123 (``[src/libmpg123/...] error: ...``, hundreds of lines for a
damaged file) write straight onto fd 2. While they work, fd 2 points at a scratch file, so the
user sees ser-live's own one-line messages only; ``SER_LIVE_NATIVE_STDERR=1`` lets them through.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Any

NATIVE_STDERR_ENV = "SER_LIVE_NATIVE_STDERR"


class NativeStderr:
    """Diverts what C libraries write on fd 2 into a scratch file; Python's ``sys.stderr`` keeps
    writing to the real stderr. Re-entrant; a no-op when stderr is not a plain file descriptor
    (e.g. under pytest's capture) or when ``SER_LIVE_NATIVE_STDERR`` is set."""

    _lock = threading.Lock()
    _depth = 0
    _saved_fd: int | None = None
    _saved_stream: Any = None
    _scratch: Any = None

    @classmethod
    def _possible(cls) -> bool:
        if os.environ.get(NATIVE_STDERR_ENV):
            return False
        try:
            return sys.stderr is not None and sys.stderr.fileno() == 2
        except (AttributeError, ValueError, OSError):
            return False

    @classmethod
    def acquire(cls) -> None:
        with cls._lock:
            cls._depth += 1
            if cls._depth > 1 or not cls._possible():
                return
            try:
                sys.stderr.flush()
                cls._saved_fd = os.dup(2)
                cls._saved_stream = sys.stderr
                sys.stderr = open(  # noqa: SIM115 (restored in release)
                    os.dup(cls._saved_fd),
                    "w",
                    buffering=1,
                    encoding=getattr(cls._saved_stream, "encoding", None) or "utf-8",
                    errors="backslashreplace",
                )
                cls._scratch = tempfile.TemporaryFile()  # noqa: SIM115 (closed in release)
                os.dup2(cls._scratch.fileno(), 2)
            except OSError:  # leave stderr as it was rather than fail the run
                cls._restore()

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            if cls._depth == 0:
                return
            cls._depth -= 1
            if cls._depth == 0:
                cls._restore()

    @classmethod
    def _restore(cls) -> None:
        if cls._saved_fd is not None:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(cls._saved_fd, 2)
            os.close(cls._saved_fd)
            if sys.stderr is not cls._saved_stream:
                sys.stderr.close()
                sys.stderr = cls._saved_stream
        if cls._scratch is not None:
            cls._scratch.close()
        cls._saved_fd = cls._saved_stream = cls._scratch = None

    def __enter__(self) -> NativeStderr:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

"""What a repeated Ctrl-C, SIGTERM or SIGHUP does in ser-live.

The first one asks the run to stop: the utterance in progress is classified (or dropped, by
setting), the logs are complete, the summary is printed, exit 0. A repeated one (a second
Ctrl-C, or the ten quick SIGTERMs of an impatient supervisor):

- while ser-live is still starting (loading the model, opening the input), before anything is
  written, leaves at once (``ser-live: interrupted``, exit 130);
- once the run writes, does not tear the wrap-up apart: what the first one asked for still
  happens (it takes milliseconds: one classification per stream), the summary is printed, and
  only then does ser-live leave with exit 130. Should the wrap-up hang (an audio device that
  does not close), ser-live leaves anyway after :data:`WRAP_UP_LIMIT_S`; rows already on disk
  are whole either way (:mod:`streamer.sinks.rowfile`).
"""

from __future__ import annotations

import os
import threading

from streamer.cli_common import EXIT_INTERRUPTED, say

WRAP_UP_LIMIT_S = 5.0


class RepeatedStop:
    """The ``again`` of :func:`~streamer.cli_common.stop_on_signals` for one ser-live run."""

    def __init__(self, prog: str, limit_s: float = WRAP_UP_LIMIT_S) -> None:
        self.prog = prog
        self.limit_s = limit_s
        self.writing = threading.Event()  # set once the run's outputs are open
        self.repeated = threading.Event()
        self._watchdog: threading.Timer | None = None

    def __call__(self) -> None:
        if not self.writing.is_set():  # nothing written yet: out at once
            raise KeyboardInterrupt
        if self.repeated.is_set():
            return
        self.repeated.set()
        self._watchdog = threading.Timer(self.limit_s, self._leave)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _leave(self) -> None:
        say(
            f"{self.prog}: interrupted (the stop did not finish within {self.limit_s:g} s; "
            "rows already logged are whole)"
        )
        os._exit(EXIT_INTERRUPTED)

    def done(self) -> None:
        """The wrap-up finished: no more need for the watchdog."""
        if self._watchdog is not None:
            self._watchdog.cancel()

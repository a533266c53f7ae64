"""A single-producer, single-consumer ring buffer for audio samples.

The producer is PortAudio's callback thread: :meth:`RingBuffer.write` only copies into
preallocated memory and never waits (it touches the wake-up event's lock only when it crosses
the consumer's wake-up threshold while the consumer sleeps). When the consumer falls behind and
the buffer is full, the new block (or the part that does not fit) is dropped and counted, so
overruns are never silent. The two positions only ever grow and each is written by one side
only; under the GIL the plain int stores are atomic, so no lock is needed on the callback side.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    """``capacity`` samples; :meth:`wait` wakes the consumer once ``wake_at`` samples are in."""

    def __init__(
        self, capacity: int, dtype: type = np.float32, wake_at: int = 1, channels: int = 0
    ) -> None:
        """``channels`` > 0 stores ``(frames, channels)`` blocks; 0 stores 1-D samples."""
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        if not 1 <= wake_at <= capacity:
            raise ValueError("wake_at must be 1..capacity")
        self._data = np.zeros((capacity, channels) if channels else capacity, dtype=dtype)
        self.capacity = capacity
        self.wake_at = wake_at
        self._written = 0  # total samples ever written (producer-owned)
        self._read = 0  # total samples ever read (consumer-owned)
        self.overruns = 0  # write calls that could not store all their samples
        self.dropped_samples = 0
        self._readable = threading.Event()

    def available(self) -> int:
        return self._written - self._read

    def write(self, block: np.ndarray) -> int:
        """Copy ``block`` in; returns how many samples were stored. Never blocks."""
        n = len(block)
        free = self.capacity - (self._written - self._read)
        if n > free:
            self.overruns += 1
            self.dropped_samples += n - free
            n = free
        if n:
            start = self._written % self.capacity
            first = min(n, self.capacity - start)
            self._data[start : start + first] = block[:first]
            if first < n:
                self._data[: n - first] = block[first:n]
            self._written += n
        # Event.set() takes a lock: only the write that crosses the threshold while the consumer
        # sleeps needs it (read() re-checks after clearing, so no wake-up is lost). A full
        # buffer also wakes it, whatever the threshold.
        if not self._readable.is_set() and (
            self._written - self._read >= self.wake_at or n < len(block)
        ):
            self._readable.set()
        return n

    def read(self, max_samples: int, out: np.ndarray | None = None) -> np.ndarray:
        """Take up to ``max_samples``, oldest first; a new array unless ``out`` is given."""
        n = min(max_samples, self._written - self._read)
        out = np.empty((n, *self._data.shape[1:]), self._data.dtype) if out is None else out[:n]
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if first < n:
            out[first:n] = self._data[: n - first]
        self._read += n
        if self._written - self._read < self.wake_at:
            self._readable.clear()
            # A write may have landed between the check and the clear; do not lose its wake-up.
            if self._written - self._read >= self.wake_at:
                self._readable.set()
        return out

    def wait(self, timeout: float) -> bool:
        """Block the consumer until ``wake_at`` samples are in or ``timeout`` seconds pass."""
        return self._readable.wait(timeout)

    def reset(self) -> None:
        self._read = self._written
        self._readable.clear()
        self.overruns = 0
        self.dropped_samples = 0

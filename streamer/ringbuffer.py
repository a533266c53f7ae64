"""A single-producer, single-consumer ring buffer for audio samples.

The producer is PortAudio's callback thread: :meth:`RingBuffer.write` only copies into
preallocated memory and never waits. When the consumer falls behind and the buffer is full, the
new block (or the part that does not fit) is dropped and counted, so overruns are never silent.
The two positions only ever grow and each is written by one side only; under the GIL the plain
int stores are atomic, so no lock is needed on the callback side.
"""

from __future__ import annotations

import threading

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int, dtype: type = np.float32) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self._data = np.zeros(capacity, dtype=dtype)
        self.capacity = capacity
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
            self._readable.set()
        return n

    def read(self, max_samples: int, out: np.ndarray | None = None) -> np.ndarray:
        """Take up to ``max_samples``, oldest first; a new array unless ``out`` is given."""
        n = min(max_samples, self._written - self._read)
        out = np.empty(n, dtype=self._data.dtype) if out is None else out[:n]
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._data[start : start + first]
        if first < n:
            out[first:n] = self._data[: n - first]
        self._read += n
        if self._written == self._read:
            self._readable.clear()
            # A write may have landed between the check and the clear; do not lose its wake-up.
            if self._written != self._read:
                self._readable.set()
        return out

    def wait(self, timeout: float) -> bool:
        """Block the consumer until data is available or ``timeout`` seconds pass."""
        return self._readable.wait(timeout)

    def reset(self) -> None:
        self._read = self._written
        self._readable.clear()
        self.overruns = 0
        self.dropped_samples = 0

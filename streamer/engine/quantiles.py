"""Streaming statistics whose memory does not grow with the length of a run."""

from __future__ import annotations

import math
from collections import Counter


class QuantileCounter:
    """Quantiles of an unbounded stream of values, exact at a fixed ``resolution``.

    Values are counted in bins of ``resolution`` (1 ms for latencies), so memory grows with the
    number of distinct binned values, never with the number of values. Quantiles interpolate
    linearly between order statistics, as ``numpy.percentile`` does on the binned values.
    """

    def __init__(self, resolution: float = 1.0) -> None:
        self.resolution = resolution
        self._bins: Counter[int] = Counter()
        self.count = 0

    def add(self, value: float) -> None:
        self._bins[round(value / self.resolution)] += 1
        self.count += 1

    def merge(self, other: QuantileCounter) -> None:
        """Count ``other``'s values too (same resolution)."""
        if other.resolution != self.resolution:
            raise ValueError("quantile counters of different resolutions")
        self._bins.update(other._bins)
        self.count += other.count

    def quantile(self, q: float) -> float | None:
        """The ``q`` quantile (0..1), None before the first value."""
        if not self.count:
            return None
        position = q * (self.count - 1)
        lower, upper = math.floor(position), math.ceil(position)
        low = high = None
        seen = 0
        for key in sorted(self._bins):
            seen += self._bins[key]
            if low is None and seen > lower:
                low = key
            if seen > upper:
                high = key
                break
        assert low is not None and high is not None
        value = low + (high - low) * (position - lower)
        return value * self.resolution

    def median_p95(self) -> tuple[float | None, float | None]:
        return self.quantile(0.5), self.quantile(0.95)

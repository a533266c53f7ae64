"""The server's counters, gauges and the inference-time histogram, as Prometheus text."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Thread-safe: inference threads add their timings, the event loop the rest."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self._buckets = [0] * (len(BUCKETS_S) + 1)
        self._sum = 0.0
        self._count = 0
        self.gauges: dict[str, Callable[[], float]] = {}

    def add(self, name: str, value: float = 1.0) -> None:
        with self._lock:
            self.counters[name] += value

    def observe_inference(self, seconds: float) -> None:
        with self._lock:
            k = next((i for i, edge in enumerate(BUCKETS_S) if seconds <= edge), len(BUCKETS_S))
            self._buckets[k] += 1
            self._sum += seconds
            self._count += 1

    def text(self) -> str:
        """The exposition format, version 0.0.4."""
        lines: list[str] = []
        with self._lock:
            counters = dict(self.counters)
            buckets, total, count = list(self._buckets), self._sum, self._count
        for name, value in sorted(counters.items()):
            base = name.split("{")[0]
            lines += [f"# TYPE {base} counter"] if f"# TYPE {base} counter" not in lines else []
            lines.append(f"{name} {value:g}")
        for name, read in sorted(self.gauges.items()):
            lines += [f"# TYPE {name} gauge", f"{name} {read():g}"]
        lines.append("# TYPE ser_inference_seconds histogram")
        running = 0
        for edge, n in zip((*BUCKETS_S, "+Inf"), buckets, strict=True):
            running += n
            lines.append(f'ser_inference_seconds_bucket{{le="{edge}"}} {running}')
        lines += [f"ser_inference_seconds_sum {total:g}", f"ser_inference_seconds_count {count}"]
        return "\n".join(lines) + "\n"

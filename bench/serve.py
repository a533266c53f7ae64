"""How many streams one core of ser-serve sustains at real time, the default and the fast
model side by side in one run.

    python bench/serve.py [--quick] [--models default fast] [--json out.json]

Each model gets its own ``ser-serve --workers 1`` process pinned to one core (event loop and
inference together, as a one-core deployment runs); the clients run here, on another core when
there is one. In interleaved rounds, several streams send the demo call (espeak-ng, 16 kHz,
partial results on, as the page asks) at real time in 20 ms frames, as a microphone does, and
the server's CPU time (from /proc: event loop, frames, VAD and inference) per second of audio
gives the streams a core sustains: 1 / that. Then (not with --quick) that many streams, less a
fifth of headroom (at most 64), are sent at real time, and the finals' p95 latency against
that of a single stream says whether it holds. The server's memory after the first round and
at the end says whether it stays flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from streamer.serve.client import stream_audio  # noqa: E402

RATE = 16000


def speech(seconds: float) -> np.ndarray:
    """The demo call's lines (espeak-ng) at 16 kHz, int16, ``seconds`` long."""
    import soxr

    from streamer.live.demo import LINES, speak

    parts = []
    for line in LINES:
        samples, rate = speak(line.text, line.wpm, line.pitch, line.voice, line.amplitude)
        parts += [soxr.resample(samples, rate, RATE), np.zeros(RATE)]
    x = np.resize(np.concatenate(parts), int(seconds * RATE))
    return (x / max(1e-9, float(np.abs(x).max())) * 0.5 * 32767).astype(np.int16)


class Served:
    """A ``ser-serve`` process for one model, pinned to one core."""

    def __init__(self, model: str, core: int) -> None:
        exe = Path(sys.executable).with_name("ser-serve")
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [str(exe), "--port", "0", "--model", model, "--workers", "1", "--max-speed",
             "100000", "--max-sessions", "256", "--log-level", "warning"],
            stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, {core})) if core >= 0 else None,
        )
        line = self.process.stderr.readline() if self.process.stderr else ""
        found = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
        if not found:
            raise SystemExit(f"ser-serve did not start: {line.strip()}")
        self.url = f"ws://127.0.0.1:{found.group(1)}/v1/stream"

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self, key: str = "VmRSS") -> float:
        """Resident memory now (``VmRSS``) or at its peak (``VmHWM``)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


async def streams(url: str, audio: np.ndarray, count: int, speed: float | None) -> list:
    return await asyncio.gather(*(
        stream_audio(url, audio, RATE, frame_ms=20, speed=speed)
        for _ in range(count)))


def cost_round(served: Served, audio: np.ndarray, count: int) -> float:
    """Server CPU seconds per second of audio, ``count`` streams sent at real time."""
    before = served.cpu_s()
    results = asyncio.run(streams(served.url, audio, count, 1.0))
    time.sleep(0.2)
    spent = served.cpu_s() - before
    assert all(r[-1]["reason"] == "stop" for r in results), "a stream did not end cleanly"
    return spent / (count * len(audio) / RATE)


def final_p95_ms(served: Served, audio: np.ndarray, count: int) -> float:
    """p95 latency of the finals of ``count`` streams sent at real time (the 300 ms hang-over
    that closes an utterance included)."""
    results = asyncio.run(streams(served.url, audio, count, 1.0))
    latencies = [e["latency_ms"] for r in results for e in r if e["type"] == "final"]
    return float(np.percentile(latencies, 95)) if latencies else 0.0


def realtime(served: Served, audio: np.ndarray, count: int) -> dict[str, float]:
    return {"realtime_streams": count,
            "final_p95_ms_1_stream": final_p95_ms(served, audio, 1),
            "final_p95_ms_n_streams": final_p95_ms(served, audio, count)}


def measure(names: list[str], rounds: int, count: int, seconds: float, check_s: float
            ) -> dict[str, dict[str, float]]:
    cores = sorted(os.sched_getaffinity(0))
    server_core, client_core = cores[0], cores[-1]
    if len(cores) > 1:
        os.sched_setaffinity(0, {client_core})
    audio = speech(seconds)
    served = {name: Served(name, server_core) for name in names}
    try:
        costs: dict[str, list[float]] = {name: [] for name in names}
        rss_after_first: dict[str, float] = {}
        for _ in range(rounds):
            for name in names:
                costs[name].append(cost_round(served[name], audio, count))
                rss_after_first.setdefault(name, served[name].rss_mb())
        figures = {}
        for name in names:
            cost = statistics.median(costs[name])
            figures[name] = {"cpu_ms_per_audio_s": 1000 * cost, "streams_per_core": 1 / cost}
            if check_s > 0:
                n = max(1, min(64, int(0.8 / cost)))
                figures[name].update(realtime(served[name], audio[: int(check_s * RATE)], n))
            figures[name].update({
                "rss_mb_after_first_round": rss_after_first[name],
                "rss_mb_at_end": served[name].rss_mb(),
                "peak_rss_mb": served[name].rss_mb("VmHWM"),
            })
    finally:
        for server in served.values():
            server.stop()
    return figures


def report(figures: dict[str, dict[str, float]], names: list[str]) -> None:
    print(f"{'':28}" + "".join(f"{n:>12}" for n in names))
    for key in figures[names[0]]:
        print(f"{key:28}" + "".join(f"{figures[n][key]:12.1f}" for n in names))
    if len(names) == 2:
        a, b = names
        ratio = figures[b]["streams_per_core"] / figures[a]["streams_per_core"]
        print(f"streams per core, {b}/{a}: {ratio:.1f}x  ({a}/{b} cost ratio)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="model names")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        figures = measure(args.models, rounds=1, count=2, seconds=4.0, check_s=0.0)
    else:
        figures = measure(args.models, rounds=2, count=8, seconds=20.0, check_s=15.0)
    report(figures, args.models)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The shipped models side by side, measured in one run: what the Whisper-encoder default costs
against the functionals ("fast") model, on this machine, now.

    python bench/models.py [--quick] [--models default fast] [--json out.json]

Every figure is measured for every model in the same run, in interleaved rounds, so the ratios
hold on a shared, noisy machine even when the absolute numbers drift. Each measuring process
pins numpy's BLAS, OpenMP and onnxruntime to one thread (environment variables set before numpy
loads, ``--threads 1`` for ser-batch's workers as they do themselves) and, for the per-utterance
timing, itself to one core.

- inference per 4 s utterance: front-end and model (median over interleaved rounds);
- live CPU: CPU seconds per second of speech for a call fed in 30 ms blocks with provisional
  results every second, as ``ser-live`` runs it (so < 100 % means one core keeps up);
- final-row cost: the time a final row's classification adds to its latency (p50 / p95);
- batch: hours of audio per hour for ``ser-batch --workers 2`` on bench/batch.py's generated
  call-like archive (speech with pauses, as calls have);
- memory: peak RSS of a process that loads the model and replays a call;
- size: the model files a wheel carries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_key, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from streamer.engine.build import load_model  # noqa: E402
from streamer.settings import load_settings, shipped_or_path  # noqa: E402

RATE = 16000


def speech(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like audio: the demo call's espeak-ng lines if espeak-ng is there, else vowels."""
    try:
        import soxr

        from streamer.live.demo import LINES, speak

        parts = []
        for line in LINES:
            samples, rate = speak(line.text, line.wpm, line.pitch, line.voice, line.amplitude)
            parts += [soxr.resample(samples, rate, RATE), np.zeros(RATE // 2)]
        x = np.concatenate(parts)
    except Exception:  # noqa: BLE001 (no espeak-ng: the synthetic vowels the tests use)
        from synth import vowel

        x = np.concatenate([vowel(0.8, f0=120 + 15 * k, seed=k) for k in range(8)])
    x = np.resize(x, int(seconds * RATE)).astype(np.float32)
    return x * np.float32(0.3 / max(float(np.max(np.abs(x))), 1e-9))


def pin_to_one_core() -> str:
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    except (AttributeError, OSError):
        return "not pinned"


def per_utterance(names: list[str], rounds: int, reps: int) -> dict[str, dict[str, float]]:
    settings = load_settings()
    models = {n: load_model(settings, n) for n in names}
    utterance = speech(4.0)
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    for m in models.values():
        m.predict(utterance)  # warm-up
    for _ in range(rounds):  # interleaved: a busy moment hits every model alike
        for name, m in models.items():
            for _ in range(reps):
                t0 = time.perf_counter()
                vector = m.front_end(utterance)
                t1 = time.perf_counter()
                m.assess_vector(vector, update=False)
                t2 = time.perf_counter()
                times[name].append((t1 - t0, t2 - t0))
    return {
        n: {
            "front_end_ms": 1000 * float(np.median([a for a, _ in t])),
            "total_ms": 1000 * float(np.median([b for _, b in t])),
        }
        for n, t in times.items()
    }


def live_cpu(names: list[str], seconds: float) -> dict[str, dict[str, float]]:
    """CPU per second of audio for a call fed in 30 ms blocks, partials on; and how long each
    final took to classify (what it adds to the row's latency)."""
    from streamer.engine.emotion_stream import EmotionStream

    call = np.concatenate([speech(seconds * 0.75, 1), np.zeros(int(seconds * 0.25 * RATE))])
    out = {}
    for name in names:
        stream = EmotionStream(name, partial_every_s=1.0)
        block = RATE * 30 // 1000
        cpu0 = time.process_time()
        finals_ms, partials = [], 0
        for i in range(0, len(call), block):
            t0 = time.perf_counter()
            results = stream.feed(call[i : i + block])
            spent = 1000 * (time.perf_counter() - t0)
            if any(r.final for r in results):
                finals_ms.append(spent)
            partials += sum(not r.final for r in results)
        cpu = time.process_time() - cpu0
        out[name] = {
            "cpu_per_audio_s_pct": 100 * cpu / (len(call) / RATE),
            "final_p50_ms": float(np.percentile(finals_ms, 50)) if finals_ms else float("nan"),
            "final_p95_ms": float(np.percentile(finals_ms, 95)) if finals_ms else float("nan"),
            "partials_per_speech_s": partials / (seconds * 0.75),
        }
    return out


def peak_rss_mb(name: str, seconds: float) -> float:
    """Peak RSS of a fresh process that loads ``name`` and replays a call through it."""
    code = (
        "import sys, resource, numpy as np; sys.path[:0] = sys.argv[3:5];"
        "from bench.models import speech; from streamer.engine.emotion_stream import EmotionStream;"
        "s = EmotionStream(sys.argv[1], partial_every_s=1.0); x = speech(float(sys.argv[2]));"
        "[s.feed(x[i:i + 480]) for i in range(0, len(x), 480)]; s.finish();"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, name, str(seconds), str(ROOT), str(ROOT / "tests/helpers")],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def batch_hours_per_hour(name: str, folder: Path, calls: int, call_s: float) -> float:
    """``ser-batch --workers 2`` over ``calls`` generated recordings of ``call_s`` each: the
    call-like archive of bench/batch.py (espeak-ng lines, pauses of 0.3-2.5 s, a noise floor)."""
    from bench.batch import write_archive

    inputs = folder / "calls"
    if not inputs.exists():
        write_archive(inputs, calls, call_s)
    out = folder / f"out-{name}"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "streamer.batch.cli", str(inputs), "--out", str(out),
         "--workers", "2", "--model", name],
        capture_output=True, text=True, timeout=3600, check=True, cwd=ROOT,
    )
    wall = time.perf_counter() - started
    return calls * call_s / wall


def sizes(names: list[str]) -> dict[str, float]:
    out = {}
    for name in names:
        path = shipped_or_path(Path(name))
        files = [path] + sorted(p for p in path.parent.glob("whisper-*.onnx")) * (
            name == "default"
        )
        out[name] = sum(p.stat().st_size for p in files) / 1e6
    return out


def report(figures: dict[str, dict[str, float]], names: list[str]) -> None:
    first, second = names[0], names[-1]
    keys = sorted({k for f in figures.values() for k in f})
    print(f"{'figure':32} " + " ".join(f"{n:>12}" for n in names) + f" {first + '/' + second:>14}")
    for key in keys:
        values = [figures[n].get(key, float("nan")) for n in names]
        ratio = values[0] / values[-1] if values[-1] else float("nan")
        print(f"{key:32} " + " ".join(f"{v:12.2f}" for v in values) + f" {ratio:14.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--models", nargs="+", default=["default", "fast"], help="model names")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    names = args.models
    pinned = pin_to_one_core()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {pinned}, 1 thread each")
    figures: dict[str, dict[str, float]] = {n: {} for n in names}
    rounds, reps = (2, 3) if args.quick else (5, 10)
    for name, values in per_utterance(names, rounds, reps).items():
        figures[name].update(values)
    for name, values in live_cpu(names, 8.0 if args.quick else 60.0).items():
        figures[name].update(values)
    for name in names:
        figures[name]["peak_rss_mb"] = peak_rss_mb(name, 4.0 if args.quick else 30.0)
        figures[name]["files_mb"] = sizes([name])[name]
    if pinned != "not pinned":  # ser-batch's two workers need both cores
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as folder:
        calls, call_s = (2, 20.0) if args.quick else (48, 300.0)  # 4 h: start-up stays small
        for name in names:
            figures[name]["batch_audio_h_per_h"] = batch_hours_per_hour(
                name, Path(folder), calls, call_s
            )
    report(figures, names)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batch throughput: hours of audio ser-batch processes per hour of wall time, with 1 and 2 worker
processes, next to openSMILE eGeMAPS on the same files, in one run.

The archive is generated, never taken from the corpora: espeak-ng speaks a pool of lines (each
at its own rate and pitch), and every recording strings randomly chosen lines together with
pauses of 0.3-2.5 s and a low noise floor, written as 16 kHz 16-bit WAV (a common call-archive
format). Without espeak-ng, synthetic voiced bursts (tests/synth.py) stand in.

What is timed, on the same files:
  ser-batch -w 1 / -w 2   the ser-batch command end to end (start-up, worker spawn, model load,
                          every recording through the ser-live pipeline into its CSV, calls.csv),
                          1 and 2 workers taking turns for --rounds rounds; the best run of each
                          counts, since other jobs on a shared machine can only slow a run down
  openSMILE eGeMAPS       opensmile.Smile(eGeMAPSv02, Functionals).process_file on each whole
                          file, in one process (one vector per file; it has no VAD or model),
                          on as many files as fit in --opensmile-budget-s

    python bench/batch.py                 # 4 h of audio, about 3 min on 2 cores
    python bench/batch.py --quick         # tiny smoke run (CI)

The last line is ``scaling_2_vs_1: X`` (2-worker rate / 1-worker rate).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from streamer.engine.channels import StreamResampler  # noqa: E402

SR = 16000
LINES = (
    "Hello and thanks for calling, how can I help you today?",
    "I have been waiting for over an hour and nobody has called me back!",
    "I am so sorry to hear that and I will look into it right away",
    "Oh wonderful, that is great news, thank you so much!",
    "Well I suppose that will have to do",
    "Could you give me your account number please?",
    "This is the third time I am calling about the same problem",
    "Let me check that for you, it will only take a moment",
    "No, that is not what I asked for at all",
    "Perfect, I can see the order here and it ships tomorrow",
    "Is there anything else I can help you with?",
    "Honestly I do not know what to tell you anymore",
)


def line_pool(seed: int) -> list[np.ndarray]:
    """The spoken lines at 16 kHz: espeak-ng at several rates and pitches, or voiced bursts."""
    rng = np.random.default_rng(seed)
    pool = []
    if shutil.which("espeak-ng"):
        from streamer.live.demo import speak

        for text in LINES:
            for _ in range(2):
                samples, rate = speak(text, int(rng.integers(110, 210)), int(rng.integers(20, 90)))
                pool.append(StreamResampler(rate, SR).process(samples.astype(np.float32), True))
    else:
        from synth import vowel

        for i in range(24):
            pool.append(vowel(float(rng.uniform(1.0, 4.0)), f0=100 + 7 * i, seed=i))
    return pool


def write_archive(folder: Path, calls: int, call_s: float, seed: int = 7) -> float:
    """``calls`` recordings of about ``call_s`` seconds; returns the audio's total seconds."""
    rng = np.random.default_rng(seed)
    pool = line_pool(seed)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for i in range(calls):
        parts, length = [], 0
        while length < call_s * SR:
            gap = np.zeros(int(rng.uniform(0.3, 2.5) * SR), dtype=np.float32)
            line = pool[int(rng.integers(len(pool)))] * float(rng.uniform(0.3, 1.0))
            parts += [gap, line]
            length += len(gap) + len(line)
        audio = np.concatenate(parts)
        audio += (10 ** (-60 / 20) * rng.standard_normal(len(audio))).astype(np.float32)
        sf.write(folder / f"call{i:03d}.wav", audio, SR, subtype="PCM_16")
        total += len(audio) / SR
    return total


def time_ser_batch(archive: Path, out: Path, workers: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of ser-batch and its workers) for one run over the archive."""
    command = [
        sys.executable,
        "-m",
        "streamer.batch.cli",
        str(archive),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        sys.exit(f"bench: ser-batch failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    return elapsed, cpu


def time_opensmile(archive: Path, budget_s: float) -> tuple[float, float] | None:
    """(audio seconds, wall seconds) of openSMILE on the archive's files until the budget."""
    try:
        import opensmile
    except ImportError:
        return None
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    audio_s = 0.0
    started = time.perf_counter()
    for path in sorted(archive.glob("*.wav")):
        smile.process_file(str(path))
        audio_s += sf.info(str(path)).duration
        if time.perf_counter() - started > budget_s:
            break
    return audio_s, time.perf_counter() - started


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for a smoke test")
    parser.add_argument("--calls", type=int, default=48, help="recordings in the archive")
    parser.add_argument("--call-s", type=float, default=300.0, help="length of each recording")
    parser.add_argument(
        "--rounds", type=int, default=2, help="turns of 1 and 2 workers; the best of each counts"
    )
    parser.add_argument("--no-opensmile", action="store_true", help="skip openSMILE")
    parser.add_argument(
        "--opensmile-budget-s", type=float, default=20.0, help="openSMILE runs about this long"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.call_s, args.opensmile_budget_s, args.rounds = 2, 20.0, 1.0, 1
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="ser-bench-") as tmp:
        archive = Path(tmp) / "archive"
        audio_s = write_archive(archive, args.calls, args.call_s)
        print(f"archive: {args.calls} recordings, {audio_s / 3600:.2f} h of audio")
        rates: dict[int, float] = {}
        for round_ in range(1, args.rounds + 1):  # 1 and 2 workers take turns
            for workers in (1, 2):
                out = Path(tmp) / f"out{workers}-{round_}"
                wall, cpu = time_ser_batch(archive, out, workers)
                shutil.rmtree(out)
                rates[workers] = max(rates.get(workers, 0.0), audio_s / wall)
                print(
                    f"round {round_}: ser_batch_{workers}_worker{'s' if workers > 1 else ''}: "
                    f"{wall:.1f} s wall, {audio_s / wall:,.0f} h/h; {cpu:.1f} CPU s, "
                    f"{audio_s / cpu:,.0f} h per CPU hour; load {os.getloadavg()[0]:.2f}"
                )
        smile = None if args.no_opensmile else time_opensmile(archive, args.opensmile_budget_s)
        if smile is not None:
            smile_audio, smile_wall = smile
            print(
                f"opensmile_egemaps_1_process: {smile_audio / 3600:.2f} h in {smile_wall:.1f} s, "
                f"{smile_audio / smile_wall:,.0f} h/h"
            )
            print(f"ser_batch_2_vs_opensmile: {rates[2] / (smile_audio / smile_wall):.1f}")
    print(f"load_average_after: {os.getloadavg()[0]:.2f}")
    print("best of the rounds (other jobs on a shared machine only ever slow a run down):")
    print(f"workers_1_h_per_h: {rates[1]:.0f}")
    print(f"workers_2_h_per_h: {rates[2]:.0f}")
    print(f"scaling_2_vs_1: {rates[2] / rates[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

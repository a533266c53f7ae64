"""Live-path benchmark: ser-live listening to a microphone through a real PulseAudio server.

Figures, each measured in this one run and printed side by side with its target:

  cpu        CPU time of the ser-live process (all its threads, from /proc) while it listens to
             continuous speech, as % of one core; also while it listens to silence.
  latency    per utterance, end of speech -> row, three ways:
             "in ser-live": the CSV's latency_ms - the end of the utterance's last voiced frame
               entering ser-live's stream -> its row written;
             "at the microphone": the same end of speech entering the microphone (the pipe
               source) -> the row's line on ser-live's stdout; adds PulseAudio, ALSA and
               PortAudio buffering (the end is located by running the segmenter offline on the
               recording);
             "from the acoustic end": the last 10 ms of each spoken line within 40 dB of its
               loudest -> the row's line; adds webrtcvad's own trailing voiced frames.
             Target (the first two): <= hang-over + 30 ms.
  memory     RSS of ``ser-live --fast`` replaying a 30-minute file (the demo recording repeated),
             sampled every 10 ms: start (when the first row appears, i.e. after imports and
             model loading), end, peak, and the slope over the second half in MB per hour of
             audio. Target: flat.

The microphone is tests/pulse.py's private server: a module-pipe-source fed at real-time pace
(16 kHz mono s16, ``--mic-period-ms`` at a time, 10 ms by default), reached by PortAudio through
ALSA's ``pulse`` device, as in the CI tests. The speech is the demo recording
(``python -m streamer.live.demo``, espeak-ng: its first five lines, 1.5 s pauses); continuous
speech is the same lines with 0.25 s breaths between them.

    python bench/live.py             # full run: ~4 minutes on 2 cores
    python bench/live.py --quick     # ~25 s smoke run (tests/test_bench_live_smoke.py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from pulse import Feeder, LiveProcess, PulseServer, missing_requirements  # noqa: E402

from streamer.settings import load_settings  # noqa: E402

MIC_RATE = 16000
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_MB = 1.0 / 1024  # VmRSS is in kB


# -- measuring a process through /proc (Linux, like the PulseAudio path itself) -------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and all its threads."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * PAGE_MB
    except OSError:
        return None
    return None


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        distro = platform.system()
    return f"{os.cpu_count()} cores ({cpu}), {distro}, Python {platform.python_version()}"


# -- inputs -----------------------------------------------------------------------------------
def speech_lines(count: int) -> tuple[list[np.ndarray], int, str]:
    """The demo recording's lines (espeak-ng), or synthetic vowels if espeak-ng is missing."""
    from streamer.live.demo import LINES, SampleError, speak

    try:
        lines, rate = [], 0
        for line in LINES[:count]:
            samples, rate = speak(line.text, line.wpm, line.pitch, line.voice, line.amplitude)
            lines.append(samples.astype(np.float32))
        return lines, rate, "espeak-ng demo lines"
    except SampleError:
        from synth import SR, vowel

        return [vowel(2.0 + 0.5 * i, seed=i) for i in range(count)], SR, "synthetic vowels"


def join(lines: list[np.ndarray], rate: int, gap_s: float) -> tuple[np.ndarray, list[int]]:
    """Lines with ``gap_s`` of silence before each and after the last; the index just past each
    line's acoustic end (last 10 ms within 40 dB of the line's loudest 10 ms)."""
    gap = np.zeros(int(gap_s * rate), np.float32)
    parts, ends, position = [], [], 0
    for line in lines:
        parts += [gap, line]
        position += len(gap)
        ends.append(position + acoustic_end(line, rate))
        position += len(line)
    parts.append(gap)
    return np.concatenate(parts), ends


def acoustic_end(line: np.ndarray, rate: int) -> int:
    hop = rate // 100
    frames = len(line) // hop
    rms = np.sqrt(np.mean(line[: frames * hop].reshape(frames, hop) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-40 / 20))
    return int((loud[-1] + 1) * hop)


def to_mic_rate(audio: np.ndarray, rate: int) -> np.ndarray:
    return audio if rate == MIC_RATE else soxr.resample(audio, rate, MIC_RATE).astype(np.float32)


def choose_model(requested: Path | None, work: Path) -> tuple[Path, str]:
    from streamer.engine.build import load_model
    from streamer.errors import ModelError

    path = requested or load_settings().model.path
    try:
        load_model(load_settings(), path)
        return path, str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    except ModelError as exc:
        if requested is not None:
            raise SystemExit(f"bench: {exc}") from None
        from onnx_factory import write_linear_model

        note = f"stand-in linear model (the shipped one does not load: {exc})"
        return write_linear_model(work / "linear.onnx"), note


@dataclass
class Figures:
    machine: str
    model: str
    speech: str
    hangover_ms: int
    mic_period_ms: float
    cpu_speech_pct: float = float("nan")
    cpu_silence_pct: float = float("nan")
    pulse_cpu_speech_pct: float = float("nan")
    cpu_speech_s: float = 0.0
    utterances_expected: int = 0
    utterances_logged: int = 0
    latency_internal_ms: list[float] = field(default_factory=list)
    latency_mic_ms: list[float] = field(default_factory=list)
    latency_acoustic_ms: list[float] = field(default_factory=list)
    overruns: str = ""
    replay_audio_min: float = 0.0
    replay_wall_s: float = 0.0
    rss_start_mb: float = float("nan")
    rss_end_mb: float = float("nan")
    rss_peak_mb: float = float("nan")
    rss_quarters_mb: list[float] = field(default_factory=list)  # at 25, 50, 75, 100 % of the run
    rss_slope_mb_per_audio_h: float = float("nan")


def segmenter_ends(mic: np.ndarray) -> list[int]:
    """Where ser-live's segmenter ends each utterance of ``mic`` (sample indices), offline."""
    from streamer.engine.build import make_segmenter

    settings = load_settings()
    segmenter = make_segmenter(settings.vad, settings.segmenter, MIC_RATE)
    utterances = segmenter.feed(mic) + segmenter.flush()
    return [round(u.end_s * MIC_RATE) for u in utterances]


def stream_offset(mic: np.ndarray, start: int, live_ends: list[int]) -> int | None:
    """K such that ser-live's stream index + K = the feeder's index.

    The recording is segmented offline as ser-live heard it (16-bit, as through the pipe) at
    every frame phase, 1 ms apart; at the phase ser-live's frames had, the utterance ends agree
    exactly, which pins K to a millisecond."""
    heard = np.round(np.clip(mic, -1, 1) * 32767).astype(np.float32) / 32768
    best: tuple[int, int] | None = None  # (spread, K)
    frame = load_settings().vad.frame_ms * MIC_RATE // 1000
    for phase in range(0, frame, MIC_RATE // 1000):
        ends = segmenter_ends(heard[phase:])
        if len(ends) != len(live_ends):
            continue
        ks = [start + phase + e - live for e, live in zip(ends, live_ends, strict=True)]
        spread = max(ks) - min(ks)
        if best is None or spread < best[0]:
            best = (spread, int(np.median(ks)))
    return None if best is None or best[0] > frame else best[1]


PARTIAL_EVERY_S = 0.0  # --partials: provisional results too, as the live view computes them


def partial_args(work: Path) -> list[str]:
    """ser-live computes provisional results only for an output that shows them: with
    ``--partials S`` the run writes them to a JSON-lines file, so their cost is measured."""
    if not PARTIAL_EVERY_S:
        return []
    return ["--jsonl", str(work / "partials.jsonl"), "--partial-every-s", str(PARTIAL_EVERY_S)]


def measure_latency(server, model: Path, lines, rate, reps: int, period_s, work: Path, fig):
    """Speech with 1.5 s pauses into the microphone; each row's latency, three ways."""
    import csv

    audio, ends = join(lines * reps, rate, gap_s=1.5)
    mic = to_mic_rate(audio, rate)
    acoustic_ends = [round(e * MIC_RATE / rate) for e in ends]
    out = work / "latency.csv"
    with Feeder(server, chunk_s=period_s) as feeder:
        run = LiveProcess(
            ["--device", "pulse", "--csv", str(out), "--model", str(model), *partial_args(work)],
            server.client_env(),
        )
        run.wait_listening()
        time.sleep(0.5)
        start = feeder.play(mic)
        feeder.played.wait(len(mic) / MIC_RATE + 30)
        time.sleep(1.0)
        run.stop()
    seen = [t for t, _ in list(run.lines.queue)]  # when each row's line reached stdout
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    fig.latency_internal_ms = [float(r["latency_ms"]) for r in rows]

    # Acoustic end of each spoken line -> its row: each row belongs to the last line that
    # ended before it appeared.
    spoken = [feeder.written_at(start + e - 1) for e in acoustic_ends]
    for t in seen:
        before = [s for s in spoken if s <= t]
        if before:
            fig.latency_acoustic_ms.append(1000 * (t - before[-1]))

    # The same end of speech ser-live measured from (its segmenter's), timed at the pipe.
    live_ends = [round(float(r["end_s"]) * MIC_RATE) for r in rows]
    k = stream_offset(mic, start, live_ends) if len(seen) == len(rows) else None
    if k is not None:
        for t, e in zip(seen, live_ends, strict=True):
            fig.latency_mic_ms.append(1000 * (t - feeder.written_at(e + k - 1)))
    fig.utterances_expected = len(ends)
    fig.utterances_logged = len(rows)
    fig.overruns = run.summary().split("overruns ", 1)[-1].split(";")[0]


def measure_cpu(server, model: Path, lines, rate, speech_s, silence_s, period_s, work, fig):
    """CPU of one ser-live process: first while it hears silence, then continuous speech."""
    audio, _ = join(lines, rate, gap_s=0.25)
    mic = to_mic_rate(audio, rate)
    out = work / "cpu.csv"
    with Feeder(server, chunk_s=period_s) as feeder:
        run = LiveProcess(
            ["--device", "pulse", "--csv", str(out), "--model", str(model), *partial_args(work)],
            server.client_env(),
        )
        run.wait_listening()
        pid, server_pid = run.proc.pid, server.process.pid
        time.sleep(min(2.0, silence_s))  # start-up work (warm-up, allocations) is not listening
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(silence_s)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        feeder.play(mic, loop=True)
        time.sleep(1.0)
        c2, s2, t2 = cpu_seconds(pid), cpu_seconds(server_pid), time.monotonic()
        time.sleep(speech_s)
        c3, s3, t3 = cpu_seconds(pid), cpu_seconds(server_pid), time.monotonic()
        code = run.stop()
    if code != 0:
        raise RuntimeError(f"ser-live failed in the CPU run (exit {code}): {run.stderr}")
    fig.cpu_silence_pct = 100 * (c1 - c0) / (t1 - t0)
    fig.cpu_speech_pct = 100 * (c3 - c2) / (t3 - t2)
    fig.pulse_cpu_speech_pct = 100 * (s3 - s2) / (t3 - t2)
    fig.cpu_speech_s = t3 - t2


def measure_memory(model: Path, lines, rate, minutes: float, work: Path, fig) -> None:
    """RSS of a fast replay of ``minutes`` of speech (the demo recording, repeated)."""
    one, _ = join(lines, rate, gap_s=1.5)
    reps = max(1, int(np.ceil(minutes * 60 * rate / len(one))))
    path = work / "long.wav"
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as handle:
        for _ in range(reps):
            handle.write(one)
    fig.replay_audio_min = reps * len(one) / rate / 60
    run = LiveProcess(
        ["--input", str(path), "--fast", "--csv", str(work / "replay.csv"), "--model", str(model)]
    )
    samples: list[tuple[float, float]] = []
    while run.proc.poll() is None:
        rss = rss_mb(run.proc.pid)
        if rss is not None:
            samples.append((time.monotonic(), rss))
        time.sleep(0.01)
    code = run.stop()
    path.unlink()
    rows = [t for t, _ in list(run.lines.queue)]
    if code != 0 or not rows:
        raise RuntimeError(f"replay failed ({code}): {run.stderr[-3:]}")
    # From the first row on, the pipeline is running: start-up (imports, model) is behind it.
    t = np.array([x[0] for x in samples])
    r = np.array([x[1] for x in samples])
    running = t >= rows[0]
    if running.sum() < 5:
        raise RuntimeError("replay too short to sample its memory; use a longer --replay-min")
    t, r = t[running], r[running]
    fig.replay_wall_s = float(t[-1] - samples[0][0])
    fig.rss_start_mb = float(r[0])
    fig.rss_end_mb = float(r[-1])
    fig.rss_peak_mb = float(r.max())
    span = t[-1] - t[0]
    fig.rss_quarters_mb = [
        float(r[np.searchsorted(t, t[0] + q * span) - (q == 1)]) for q in (0.25, 0.5, 0.75, 1.0)
    ]
    half = t >= t[0] + 0.5 * (t[-1] - t[0])
    slope_per_wall_s = float(np.polyfit(t[half], r[half], 1)[0]) if half.sum() > 2 else 0.0
    audio_h_per_wall_s = fig.replay_audio_min / 60 / (t[-1] - t[0])
    fig.rss_slope_mb_per_audio_h = slope_per_wall_s / audio_h_per_wall_s


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(fig: Figures) -> str:
    target_ms = fig.hangover_ms + 30
    rows = [
        (
            "CPU, continuous speech (% of one core)",
            f"{fig.cpu_speech_pct:.1f} %",
            "< 5 %",
            fig.cpu_speech_pct < 5,
        ),
        ("CPU, silence (% of one core)", f"{fig.cpu_silence_pct:.1f} %", "-", None),
        ("  PulseAudio server meanwhile", f"{fig.pulse_cpu_speech_pct:.1f} %", "-", None),
        (
            "utterances logged / spoken",
            f"{fig.utterances_logged} / {fig.utterances_expected}",
            "all",
            fig.utterances_logged == fig.utterances_expected,
        ),
    ]
    for name, values, target in (
        ("latency, in ser-live (CSV latency_ms)", fig.latency_internal_ms, True),
        ("latency, at the microphone", fig.latency_mic_ms, True),
        ("latency, from the acoustic end", fig.latency_acoustic_ms, False),
    ):
        med, p95 = pct(values, 50), pct(values, 95)
        rows.append(
            (
                f"{name}: median / p95",
                f"{med:.0f} / {p95:.0f} ms",
                f"<= {target_ms} ms" if target else "-",
                p95 <= target_ms if target else None,
            )
        )
    rows += [
        ("overruns during the latency run", fig.overruns, "0", fig.overruns.startswith("0 ")),
        (
            f"memory, {fig.replay_audio_min:.0f}-min fast replay: start / end / peak",
            f"{fig.rss_start_mb:.1f} / {fig.rss_end_mb:.1f} / {fig.rss_peak_mb:.1f} MB",
            "flat",
            None,
        ),
        (
            "  at 25 / 50 / 75 / 100 % of the replay",
            " / ".join(f"{x:.1f}" for x in fig.rss_quarters_mb) + " MB",
            "-",
            None,
        ),
        (
            "  slope over the second half",
            f"{fig.rss_slope_mb_per_audio_h:+.2f} MB per audio hour",
            "~0",
            abs(fig.rss_slope_mb_per_audio_h) < 2.0,
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [
        f"machine: {fig.machine}",
        f"model: {fig.model}; speech: {fig.speech}; hang-over {fig.hangover_ms} ms; "
        f"microphone period {fig.mic_period_ms:g} ms",
        f"continuous-speech CPU window {fig.cpu_speech_s:.0f} s; "
        f"replay of {fig.replay_audio_min:.1f} min took {fig.replay_wall_s:.1f} s",
        "",
        f"{'figure':<{width}}{'measured':<38}{'target':<14}".rstrip(),
    ]
    for name, measured, target, ok in rows:
        verdict = "" if ok is None else ("met" if ok else "MISSED")
        lines.append(f"{name:<{width}}{measured:<38}{target:<14}{verdict}".rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the configured one)")
    parser.add_argument("--reps", type=int, help="demo recordings spoken in the latency run")
    parser.add_argument("--cpu-s", type=float, help="seconds of continuous speech for CPU")
    parser.add_argument("--replay-min", type=float, help="minutes of audio in the memory replay")
    parser.add_argument(
        "--mic-period-ms",
        type=float,
        default=10.0,
        help="the simulated microphone delivers this much audio at a time",
    )
    parser.add_argument(
        "--partials",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also compute a provisional result every SECONDS of speech (as the live view does)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    global PARTIAL_EVERY_S
    PARTIAL_EVERY_S = args.partials
    reps = args.reps or (1 if args.quick else 4)
    cpu_s = args.cpu_s or (3.0 if args.quick else 60.0)
    silence_s = 1.5 if args.quick else 15.0
    replay_min = args.replay_min or (2.0 if args.quick else 30.0)
    n_lines = 2 if args.quick else 5
    period_s = args.mic_period_ms / 1000

    reason = missing_requirements()
    if reason:
        print(f"bench: cannot run the live path here: {reason}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="ser-live-bench-"))
    try:
        model, model_note = choose_model(args.model, work)
        lines, rate, speech_note = speech_lines(n_lines)
        hangover_ms = load_settings().segmenter.hangover_ms
        fig = Figures(machine(), model_note, speech_note, hangover_ms, args.mic_period_ms)
        with PulseServer(work / "pulse") as server:
            print("bench: latency run ...", file=sys.stderr, flush=True)
            measure_latency(server, model, lines, rate, reps, period_s, work, fig)
            print("bench: CPU run ...", file=sys.stderr, flush=True)
            measure_cpu(server, model, lines, rate, cpu_s, silence_s, period_s, work, fig)
        print(f"bench: {replay_min:.0f}-minute fast replay ...", file=sys.stderr, flush=True)
        measure_memory(model, lines, rate, replay_min, work, fig)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report(fig))
    if args.json:
        args.json.write_text(json.dumps(asdict(fig), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

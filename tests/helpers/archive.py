"""A small generated call archive for the ser-batch tests: nested folders, several formats, a
broken and an empty file, and a file that is not audio (which a folder search passes over)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

PHRASES = (
    "thanks for calling, how can I help",
    "I have been waiting for an hour",
    "that is wonderful news",
    "well, I suppose that will do",
    "could you say that again please",
    "no, that is not what I ordered",
)


def call(seed: int, seconds: float = 4.0) -> np.ndarray:
    """espeak-ng lines (a pitch and rate per seed) with pauses, about ``seconds`` long at 16 kHz:
    speech the shipped model's speech gate accepts (a synthetic buzz it may refuse)."""
    import soxr
    from tools import require_tool

    from streamer.live.demo import speak

    require_tool("espeak-ng")
    rng = np.random.default_rng(seed)
    parts, total = [], 0.0
    while total < seconds:
        pause = float(rng.uniform(0.5, 1.2))
        text = PHRASES[int(rng.integers(len(PHRASES)))]
        samples, rate = speak(text, int(rng.integers(130, 190)), int(rng.integers(30, 70)))
        line = soxr.resample(samples, rate, 16000).astype(np.float32)
        parts += [np.zeros(int(pause * 16000), np.float32), line]
        total += pause + len(line) / 16000
    parts.append(np.zeros(8000, np.float32))
    return np.concatenate(parts)


def make_archive(root: Path, calls: int = 6, seconds: float = 4.0) -> list[Path]:
    """Write ``calls`` recordings under ``root`` (half in a subfolder, one as 44.1 kHz stereo
    FLAC) plus broken.wav, empty.wav and notes.txt; returns the good recordings."""
    good = []
    for i in range(calls):
        folder = root / ("2026-11" if i % 2 else "") / ("week2" if i % 4 == 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        audio = call(seed=100 + i, seconds=seconds)
        if i == 1:
            from scipy.signal import resample_poly

            stereo = np.repeat(resample_poly(audio, 441, 160)[:, None], 2, axis=1)
            path = folder / f"call{i}.flac"
            sf.write(path, stereo, 44100, subtype="PCM_16")
        else:
            path = folder / f"call{i}.wav"
            sf.write(path, audio, 16000, subtype="PCM_16")
        good.append(path)
    (root / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt truncated")
    (root / "empty.wav").write_bytes(b"")
    (root / "notes.txt").write_text("not audio\n")
    return good


def ser_batch(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the ser-batch command (not on a terminal: progress comes as plain lines)."""
    return subprocess.run(
        [sys.executable, "-m", "streamer.batch.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_calls(out: Path) -> dict[str, dict[str, str]]:
    """calls.csv's rows of whole recordings (not those of single channels) by file name."""
    with open(out / "calls.csv", newline="") as handle:
        return {
            Path(row["path"]).name: row for row in csv.DictReader(handle) if not row["channel"]
        }

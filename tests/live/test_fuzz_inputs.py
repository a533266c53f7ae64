"""Fuzzing the input path: a few hundred damaged WAV, FLAC, OGG and MP3 files (bit flips in the
header and in the body, truncations, both) through ser-live's command line. Every one must end
with exit 0, 1 or 2, at most a few lines of ser-live's own on stderr, no traceback, and within a
time limit. The files are made from synthetic speech; libsndfile writes all four formats (MP3
since libsndfile 1.1, bundled with the soundfile wheel)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import SR, speech_and_silence

DRIVER = Path(__file__).parents[1] / "helpers" / "fuzz_driver.py"
FORMATS = {  # suffix: soundfile format and subtype
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
PER_FORMAT = 75  # 300 files
HEADER_BYTES = 128
WORKERS = 2
ALLOWED_LINES = ("ser-live: ", "summary: ")
MAX_STDERR_LINES = 4  # what was read, the summary, the error; never more

pytestmark = pytest.mark.slow


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One random kind of damage; returns its name and the damaged bytes."""
    buf = bytearray(data)
    kind = ["header", "body", "truncate", "header+truncate", "body+truncate"][rng.integers(5)]
    if "header" in kind:
        for _ in range(rng.integers(1, 9)):
            position = int(rng.integers(0, min(HEADER_BYTES, len(buf))))
            buf[position] ^= 1 << int(rng.integers(8))
    if "body" in kind:
        for _ in range(rng.integers(1, 200)):
            position = int(rng.integers(HEADER_BYTES, len(buf)))
            buf[position] ^= 1 << int(rng.integers(8))
    if "truncate" in kind:
        cut = int(rng.integers(1, len(buf)))
        buf = buf[: cut if rng.random() < 0.7 else min(cut, HEADER_BYTES)]
    return kind, bytes(buf)


@pytest.fixture(scope="module")
def damaged_files(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(12)
    audio, _ = speech_and_silence([("silence", 0.3), ("speech", 1.0), ("silence", 0.5)])
    stereo_44k, _ = speech_and_silence([("speech", 0.8), ("silence", 0.4)], sr=44100)
    files = []
    for suffix, (fmt, subtype) in FORMATS.items():
        originals = []
        for name, samples, rate in (("mono16k", audio, SR), ("stereo44k", stereo_44k, 44100)):
            path = root / f"{name}{suffix}"
            if name == "stereo44k":
                samples = np.stack([samples, 0.5 * samples], axis=1)
            sf.write(path, samples, rate, format=fmt, subtype=subtype)
            originals.append(path.read_bytes())
        for i in range(PER_FORMAT):
            kind, data = mutate(originals[i % 2], rng)
            path = root / f"{i:03d}-{kind}{suffix}"
            path.write_bytes(data)
            files.append(path)
    return files


def test_damaged_files_end_cleanly(damaged_files, linear_model, tmp_path):
    batches = [damaged_files[i::WORKERS] for i in range(WORKERS)]
    workers = []
    for index, batch in enumerate(batches):
        results = tmp_path / f"results{index}.jsonl"
        command = [sys.executable, str(DRIVER), str(results), str(linear_model), str(tmp_path)]
        workers.append((results, subprocess.Popen([*command, *map(str, batch)])))
    records = []
    for results, process in workers:
        try:
            process.wait(timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
        lines = [json.loads(line) for line in results.read_text().splitlines()]
        started = [r["start"] for r in lines if "start" in r]
        done = [r for r in lines if "done" in r]
        assert len(done) == len(started), f"hung or crashed on {started[len(done)]}"
        assert process.returncode == 0
        records += done
    assert len(records) == len(damaged_files)
    failures = []
    for r in records:
        lines = r["stderr"].strip().splitlines()
        if (
            r["code"] not in (0, 1, 2)
            or "Traceback" in r["stderr"]
            or len(lines) > MAX_STDERR_LINES
            or not all(line.startswith(ALLOWED_LINES) for line in lines)
        ):
            failures.append(f"{Path(r['done']).name}: exit {r['code']}: {r['stderr'][-600:]}")
    assert not failures, f"{len(failures)} of {len(records)}:\n" + "\n".join(failures[:10])
    codes = {code: sum(r["code"] == code for r in records) for code in (0, 1, 2)}
    assert codes[0] > 0 and codes[2] > 0, codes  # some still play, some are refused
    assert max(r["seconds"] for r in records) < 20

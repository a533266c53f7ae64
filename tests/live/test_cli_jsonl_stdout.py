"""`ser-live --jsonl -`: JSON lines alone on stdout; a monologue gives provisional results."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from tools import require_tool

from streamer.live.demo import speak

# About 20 s of speech without a full stop: a caller who does not pause.
MONOLOGUE = (
    "and then I rang again and they told me to wait and I waited for the engineer all day and "
    "nobody came and nobody called and when I rang back they said the booking had never been "
    "made and I had taken the whole day off work for it and now they want me to do it all again "
    "and I have been with you for eleven years and I have never been treated like this before"
)


@pytest.fixture(scope="module")
def monologue(tmp_path_factory):
    require_tool("espeak-ng")
    samples, rate = speak(MONOLOGUE, 165, 50)
    silence = np.zeros(rate, dtype=np.float32)
    path = tmp_path_factory.mktemp("monologue") / "rant.wav"
    sf.write(path, np.concatenate([silence, samples, silence]), rate)
    return path, len(samples) / rate


def run_jsonl_stdout(path, *extra):
    cmd = [sys.executable, "-m", "streamer.live.cli", "--input", str(path), "--jsonl", "-", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_a_monologue_gives_provisional_results_before_each_final(monologue):
    path, speech_s = monologue
    assert speech_s > 19
    result = run_jsonl_stdout(path, "--fast")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]  # every line parses
    assert records and all(set(r) >= {"start_s", "end_s", "label", "final"} for r in records)
    finals = [r for r in records if r["final"]]
    assert len(finals) >= 2  # cut near 8 s, at a pause, not one 20 s row
    assert all(r["end_s"] - r["start_s"] <= 8.0 + 1e-6 for r in finals)
    first = records.index(finals[0])
    provisional = [r for r in records[:first] if r["start_s"] == finals[0]["start_s"]]
    assert len(provisional) >= 4 and not any(r["final"] for r in provisional)
    ends = [r["end_s"] for r in provisional]
    assert ends == sorted(ends) and np.diff(ends) == pytest.approx(1.0, abs=0.031)
    # the final may end before the last provisional one: it was cut at a pause behind it
    assert ends[-1] - 1.0 <= finals[0]["end_s"] <= ends[-1] + 1.0
    # the human lines and the summary are on stderr, not mixed into the JSON
    assert "summary:" in result.stderr


def test_partials_can_be_turned_off(monologue):
    path, _ = monologue
    result = run_jsonl_stdout(path, "--fast", "--partial-every-s", "0")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["final"] for r in records)

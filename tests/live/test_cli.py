"""ser-live end to end: files in, rows out, one-line errors and exit codes."""

import csv
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from onnx_factory import LABELS
from synth import SR, speech_and_silence

from streamer.live.cli import main

PATTERN = [
    ("silence", 1.0),
    ("speech", 1.6),
    ("silence", 1.2),
    ("speech", 2.2),
    ("silence", 1.0),
    ("speech", 1.1),
    ("silence", 1.5),
]


@pytest.fixture
def three_utterances(tmp_path):
    audio, truth = speech_and_silence(PATTERN)
    path = tmp_path / "three.wav"
    sf.write(path, audio, SR)
    return path, truth


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_replay_logs_one_row_per_utterance(tmp_path, three_utterances, linear_model, capsys):
    wav, truth = three_utterances
    out = tmp_path / "timeline.csv"
    code = main(["--input", str(wav), "--no-ui", "--csv", str(out), "--model", str(linear_model)])
    assert code == 0
    rows = read_rows(out)
    assert len(rows) == len(truth)
    header = list(rows[0].keys())
    assert header[:6] == ["start_s", "end_s", "wall_time", "label", "confidence", "shown"]
    assert header[6 : 6 + len(LABELS)] == [f"p_{label}" for label in LABELS]
    for row, (start, end) in zip(rows, truth, strict=True):
        probs = np.array([float(row[f"p_{label}"]) for label in LABELS])
        assert probs.sum() == pytest.approx(1.0, abs=1e-4)
        assert row["label"] == LABELS[int(np.argmax(probs))]
        assert float(row["confidence"]) == pytest.approx(probs.max(), abs=1e-4)
        assert float(row["start_s"]) <= start <= end <= float(row["end_s"]) + 0.05
        assert float(row["latency_ms"]) >= 0
    stdout = capsys.readouterr().out.strip().splitlines()
    assert len(stdout) == len(truth)  # headless: one line per utterance


def test_shipped_model_accounts_for_every_burst(tmp_path, three_utterances, capsys):
    """The synthetic bursts are a buzz through formants, not speech: the shipped model's speech
    gate may refuse them, but each is either a row or a counted non-speech segment."""
    import re

    wav, truth = three_utterances
    out = tmp_path / "timeline.csv"
    assert main(["--input", str(wav), "--no-ui", "--csv", str(out)]) == 0
    err = capsys.readouterr().err
    gated = re.search(r"(\d+) non-speech segment", err)
    assert len(read_rows(out)) + (int(gated.group(1)) if gated else 0) == len(truth), err


def test_silence_only_gives_header_and_no_rows(tmp_path, linear_model):
    wav = tmp_path / "silence.wav"
    sf.write(wav, np.zeros(3 * SR, dtype=np.float32), SR)
    out = tmp_path / "t.csv"
    assert (
        main(["--input", str(wav), "--no-ui", "--csv", str(out), "--model", str(linear_model)]) == 0
    )
    assert read_rows(out) == []
    assert out.read_text().startswith("start_s,end_s,wall_time,label,confidence,shown,p_")


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "streamer.live.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "/nonexistent/call.wav"], "input file not found"),
        (["--input", "/"], "is a directory"),
        (["--duration", "-1", "--input", "x.wav"], "--duration"),
        (["--bogus-flag"], "unrecognized arguments"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args, message):
    result = run_cli("--no-ui", *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_model_is_one_line_and_exit_2(three_utterances):
    wav, _ = three_utterances
    result = run_cli("--no-ui", "--input", str(wav), "--model", "/nonexistent/model.onnx")
    assert result.returncode == 2
    assert result.stderr.strip() == "ser-live: error: model not found: /nonexistent/model.onnx"


def test_bad_config_value_is_reported_with_its_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[vad]\naggressiveness = 7\n")
    result = run_cli("--no-ui", "--config", str(config), "--input", "x.wav")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "ser-live: error: vad.aggressiveness must be 0, 1, 2 or 3 (got 7)"
    )


def test_duration_stops_a_realtime_replay(tmp_path, three_utterances, linear_model):
    wav, _ = three_utterances
    out = tmp_path / "t.csv"
    args = ["--input", str(wav), "--no-ui", "--realtime", "--duration", "3.2"]
    result = run_cli(*args, "--csv", str(out), "--model", str(linear_model))
    assert result.returncode == 0, result.stderr
    assert "ended by time limit" in result.stderr
    rows = read_rows(out)
    # 3.2 s covers the first utterance (ends 2.6 s); the second is still in progress and is
    # classified at stop (flush_on_stop) from what was heard.
    assert 1 <= len(rows) <= 2


def test_synthetic_speech_sample_gives_one_row_per_line(tmp_path):
    """The demo sample: espeak-ng lines separated by 1.5 s of silence, at 22.05 kHz."""
    from tools import require_tool

    from streamer.live.demo import LINES, make_sample

    require_tool("espeak-ng")
    wav = tmp_path / "sample.wav"
    make_sample(wav)
    out = tmp_path / "sample.csv"
    assert main(["--input", str(wav), "--no-ui", "--csv", str(out)]) == 0
    rows = read_rows(out)
    assert len(rows) == len(LINES)
    for row in rows:
        probs = [float(v) for k, v in row.items() if k.startswith("p_")]
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)

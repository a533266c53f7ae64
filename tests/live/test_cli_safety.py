"""Nothing lost, nothing surprising (issue 12), through the real command line: outputs that would
destroy the input, signals, a closed stdout, a full disk, odd durations, early Ctrl-C, odd config
encodings, the model's sample rate, and decoder noise on stderr."""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import SR, speech_and_silence
from tools import terminal_signals

PATTERN = [("silence", 0.4), ("speech", 1.0), ("silence", 0.7), ("speech", 0.9), ("silence", 0.6)]
UTTERANCES = 2


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> Path:
    audio, truth = speech_and_silence(PATTERN)
    assert len(truth) == UTTERANCES
    path = tmp_path_factory.mktemp("call") / "call.wav"
    sf.write(path, audio, SR)
    return path


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "streamer.live.cli", *map(str, args)]


def start_cli(*args) -> subprocess.Popen:
    return subprocess.Popen(
        cli(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=terminal_signals,
    )


def run_cli(*args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=timeout, **kwargs)


def one_error_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ser-live: error: ")
    return lines[0]


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- outputs that would destroy data -------------------------------------------------------


@pytest.mark.parametrize("flag", ["--csv", "--jsonl", "--screenshot"])
def test_a_log_on_the_input_is_refused_and_the_recording_kept(tmp_path, call, flag, linear_model):
    wav = tmp_path / "call.wav"
    wav.write_bytes(call.read_bytes())
    before = wav.read_bytes()
    link = tmp_path / "link.wav"
    link.symlink_to(wav)
    for out in (wav, link, tmp_path / "." / "call.wav"):  # real paths, not strings
        result = run_cli("--input", wav, "--no-ui", flag, out, "--model", linear_model)
        assert "is the input file" in one_error_line(result)
        assert wav.read_bytes() == before


def test_csv_and_jsonl_on_one_file_are_refused_before_writing(tmp_path, call, linear_model):
    out = tmp_path / "log.txt"
    hard = tmp_path / "hard.txt"
    result = run_cli("--input", call, "--no-ui", "--csv", out, "--jsonl", out)
    assert "--csv and --jsonl name the same file" in one_error_line(result)
    assert not out.exists()
    out.write_text("keep me\n")
    os.link(out, hard)
    result = run_cli("--input", call, "--no-ui", "--csv", out, "--jsonl", hard)
    assert "name the same file" in one_error_line(result)
    assert out.read_text() == "keep me\n"


def test_screenshot_into_a_directory_is_refused_before_the_run(tmp_path, call, linear_model):
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    started = time.monotonic()
    result = run_cli(*args, "--screenshot", tmp_path)
    assert "--screenshot" in one_error_line(result) and "directory" in result.stderr
    assert time.monotonic() - started < 3.6 - 0.5  # the 3.6 s real-time replay never started
    assert not out.exists()
    result = run_cli(*args, "--screenshot", tmp_path / "missing" / "shot.svg")
    assert "does not exist" in one_error_line(result)


# --- signals and a closed stdout ---------------------------------------------------------


def test_sighup_stops_like_sigterm(tmp_path, linear_model):
    # A long second utterance (2.1-8.1 s): the signal lands inside it even on a loaded machine.
    audio, truth = speech_and_silence(
        [("silence", 0.4), ("speech", 1.0), ("silence", 0.7), ("speech", 6.0), ("silence", 0.6)]
    )
    assert len(truth) == UTTERANCES
    call = tmp_path / "long.wav"
    sf.write(call, audio, SR)
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    process = start_cli(*args)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (out.exists() and len(rows(out)) >= 1):
        time.sleep(0.05)
    time.sleep(0.9)  # first row ~1.7 s in; now ~2.6 s: inside the second utterance (2.1-8.1 s)
    process.send_signal(signal.SIGHUP)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "ended by stop request" in stderr.strip().splitlines()[-1]
    assert len(rows(out)) == UTTERANCES  # the utterance in progress was classified


def test_nohup_keeps_a_run_going_through_sighup(tmp_path, call, linear_model):
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    process = subprocess.Popen(
        cli(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),  # what nohup does
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGHUP)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "ended by end of input" in stderr and len(rows(out)) == UTTERANCES


def test_closed_stdout_stops_only_the_lines(tmp_path, call, linear_model):
    """`ser-live ... --csv x.csv | head -1`: the run and the log go on to the end."""
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    process = start_cli(*args)
    first = process.stdout.readline()
    process.stdout.close()  # what `head -1` does after its line
    stderr = process.stderr.read()
    process.wait(timeout=30)
    assert "emotion=" in first
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "Broken pipe" not in stderr and "Exception" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"summary: {UTTERANCES} utterances")
    assert len(rows(out)) == UTTERANCES


# --- a full disk -------------------------------------------------------------------------


def _limit_file_size(limit: int):
    def preexec() -> None:
        # A file-size limit fails writes like a full disk (EFBIG instead of ENOSPC), part-way
        # through a row when the limit falls inside it. Python ignores SIGXFSZ itself.
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_disk_full_keeps_rows_whole_names_the_file_and_prints_the_summary(
    tmp_path, call, linear_model, kind
):
    full = tmp_path / "full"
    full.mkdir()
    out = full / f"t.{kind}"
    args = ["--input", call, "--no-ui", "--fast", f"--{kind}", out, "--model", linear_model]
    reference = tmp_path / f"reference.{kind}"
    assert run_cli(*args[:-4], f"--{kind}", reference, "--model", linear_model).returncode == 0
    lines = reference.read_bytes().splitlines(keepends=True)
    # Room for everything before the last line and half of it: the last row is cut mid-way.
    limit = sum(len(line) for line in lines[:-1]) + len(lines[-1]) // 2
    result = subprocess.run(
        cli(*args), capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(limit)
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    err = result.stderr.strip().splitlines()
    assert err[-2].startswith("summary: ") and "ended by log failure" in err[-2]
    assert err[-1].startswith(f"ser-live: error: cannot write {kind.upper()} {out}: ")
    # Whole rows only: the torn last one was rolled back (times and latencies differ by run).
    kept = out.read_bytes()
    assert kept.endswith(b"\n") and len(kept.splitlines()) == len(lines) - 1
    if kind == "csv":
        table = list(csv.reader(kept.decode().splitlines()))
        assert all(len(row) == len(table[0]) for row in table) and len(table) == UTTERANCES
    else:
        records = [json.loads(line) for line in kept.splitlines()]
        assert len(records) == len(lines) - 1  # every whole line parses
        finals = [line for line in lines if b'"final": true' in line]
        assert sum(r["final"] for r in records) == len(finals) - 1 == UTTERANCES - 1


def test_a_log_on_a_full_device_is_one_line(tmp_path, call, linear_model):
    result = run_cli("--input", call, "--no-ui", "--csv", "/dev/full", "--model", linear_model)
    line = one_error_line(result, code=1)
    assert "cannot write CSV /dev/full" in line and "space" in line


# --- odd values --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e10", "nan", "-inf", "0"])
def test_absurd_durations_are_one_line(call, value, linear_model):
    result = run_cli("--input", call, "--no-ui", f"--duration={value}", "--model", linear_model)
    assert "--duration must be a positive number of seconds" in one_error_line(result)


def test_a_sample_rate_the_model_was_not_trained_at_is_refused(tmp_path, call, linear_model):
    config = tmp_path / "8k.toml"
    config.write_text("[audio]\nsample_rate_hz = 8000\n")
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--config", config, "--csv", out, "--model", linear_model]
    line = one_error_line(run_cli(*args))
    assert "audio.sample_rate_hz is 8000" in line and "16000" in line
    assert not out.exists()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be-bom"])
def test_a_config_with_a_byte_order_mark_is_read(tmp_path, call, linear_model, encoding):
    text = "# réglages\n[segmenter]\nmin_utterance_s = 5.0\nmax_utterance_s = 8.0\n"
    data = (
        "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
        if encoding == "utf-16-be-bom"
        else text.encode(encoding)
    )
    config = tmp_path / "c.toml"
    config.write_bytes(data)
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--config", config, "--csv", out, "--model", linear_model]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert rows(out) == []  # min_utterance_s = 5 s was applied: both utterances are shorter


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[vad]\naggressiveness = 3\n".encode("utf-16-le"), "UTF-16 without a byte-order mark"),
        ("[vad] # réglage\n".encode("latin-1"), "not UTF-8 text"),
        (b"\xff\xfe[\x00v", "damaged UTF-16"),
    ],
)
def test_a_config_in_another_encoding_is_one_line(tmp_path, call, data, message):
    config = tmp_path / "c.toml"
    config.write_bytes(data)
    line = one_error_line(run_cli("--input", call, "--no-ui", "--config", config))
    assert message in line and str(config) in line


# --- Ctrl-C at any moment ----------------------------------------------------------------


@pytest.mark.parametrize("delay_s", [0.25, 0.4, 0.6])
def test_ctrl_c_while_starting_up_is_no_traceback(tmp_path, call, linear_model, delay_s):
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    process = start_cli(*args)
    time.sleep(delay_s)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert process.returncode in (0, 130), stderr
    assert len(stderr.strip().splitlines()) <= 2, stderr
    if process.returncode == 0:
        assert "ended by stop request" in stderr


# --- decoder noise -----------------------------------------------------------------------


def test_mp3_decoder_noise_stays_off_stderr(tmp_path, call, linear_model):
    mp3 = tmp_path / "call.mp3"
    audio, _ = speech_and_silence(PATTERN)
    sf.write(mp3, audio, SR, format="MP3")
    data = bytearray(mp3.read_bytes())
    rng = np.random.default_rng(3)
    for index in rng.integers(len(data) // 4, len(data), 200):  # damage the body
        data[index] ^= 0xFF
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(bytes(data))
    for path in (mp3, damaged):
        out = tmp_path / f"{path.stem}.csv"
        result = run_cli("--input", path, "--no-ui", "--csv", out, "--model", linear_model)
        assert result.returncode in (0, 1), result.stderr
        lines = result.stderr.strip().splitlines()
        assert all(line.startswith(("ser-live: ", "summary: ")) for line in lines), lines
        assert len(lines) <= 3


def test_native_stderr_is_diverted_unless_asked_for():
    """What a C library writes to file descriptor 2 while a file is open is kept off stderr;
    SER_LIVE_NATIVE_STDERR=1 lets it through (how decoder noise is hidden or shown)."""
    code = (
        "import os; from streamer.sources.native_stderr import NativeStderr\n"
        "with NativeStderr():\n    os.write(2, b'native decoder line\\n')\n"
        "os.write(2, b'own line\\n')\n"
    )
    for env, shown in (({}, False), ({"SER_LIVE_NATIVE_STDERR": "1"}, True)):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        assert ("native decoder line" in result.stderr) is shown
        assert "own line" in result.stderr


def test_jsonl_rows_are_whole_json(tmp_path, call, linear_model):
    out = tmp_path / "t.jsonl"
    result = run_cli("--input", call, "--no-ui", "--jsonl", out, "--model", linear_model)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sum(r["final"] for r in records) == UTTERANCES  # and provisional ones before them


def test_a_screenshot_the_disk_cannot_take_keeps_the_summary(tmp_path, call, linear_model):
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--csv", out, "--model", linear_model]
    result = run_cli(*args, "--screenshot", "/dev/full")
    assert result.returncode == 1, result.stderr
    err = result.stderr.strip().splitlines()
    assert err[-2].startswith(f"summary: {UTTERANCES} utterances")
    assert err[-1].startswith("ser-live: error: cannot write screenshot /dev/full")
    assert len(rows(out)) == UTTERANCES


# --- the end of the calendar (issue 22.19) -------------------------------------------------


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:50+00:00", "9999-06-01", "0001-01-01T00:00"])
def test_a_start_time_at_the_ends_of_the_calendar_is_one_line(tmp_path, call, linear_model, stamp):
    out = tmp_path / "t.csv"
    args = ["--input", call, "--no-ui", "--csv", out, "--model", linear_model]
    result = run_cli(*args, "--start-time", stamp)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--start-time out of range" in lines[0], result.stderr
    assert not out.exists()


def test_rows_stamped_past_the_calendar_end_the_run_in_one_line(
    tmp_path, linear_model, monkeypatch, capsys
):
    """Should a start time slip past the up-front check (here: the check is switched off),
    stamping a row past 9999-12-31 is a one-line error, with the rows before it on disk."""
    from streamer.live import options
    from streamer.live.cli import main

    monkeypatch.setattr(options, "MAX_DURATION_S", 0)
    out, long_call = tmp_path / "t.csv", tmp_path / "long.wav"
    audio, truth = speech_and_silence([("silence", 1.0), ("speech", 1.0)] * 7)
    sf.write(long_call, audio, SR)
    assert truth[2][1] < 9.5 and truth[-1][1] > 11  # rows before and after 23:59:59.999
    args = ["--input", str(long_call), "--no-ui", "--csv", str(out), "--model", str(linear_model)]
    code = main([*args, "--start-time", "9999-12-31T23:59:50+00:00"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "Traceback" not in "\n".join(err)
    assert err[-1].startswith("ser-live: error: start time 9999-12-31T23:59:50+00:00 plus ")
    assert "runs past the last date a row can carry" in err[-1]
    rows = out.read_text().splitlines()
    assert rows[0].startswith("start_s,") and len(rows) >= 1 + 3  # the rows before it, whole
    assert all(row.count(",") == rows[0].count(",") for row in rows)

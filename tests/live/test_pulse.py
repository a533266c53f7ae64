"""The live microphone path end to end, through a real audio server.

Each scenario starts its own private PulseAudio server (tests/pulse.py) whose default source is a
pipe that we feed at real-time pace; ser-live records from ALSA's ``pulse`` device through
PortAudio, exactly as from a desktop microphone. Scenarios run side by side.
"""

import csv
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from onnx_factory import LABELS
from pulse import Feeder, LiveProcess, PulseServer, missing_requirements
from synth import SR, speech_and_silence
from tools import skip_or_fail

from streamer.sinks.rows import field_names

THREE = [
    ("silence", 0.6),
    ("speech", 1.4),
    ("silence", 1.0),
    ("speech", 1.8),
    ("silence", 1.0),
    ("speech", 1.2),
    ("silence", 1.2),
]
# Two utterances; the second is long, so a fault or a signal lands in the middle of it.
TWO = [("silence", 0.6), ("speech", 1.2), ("silence", 1.0), ("speech", 3.0), ("silence", 1.0)]
MID_SECOND_S = 1.6  # after the first row appears (~2.1 s), ~0.9 s into the second utterance


@pytest.fixture(scope="module", autouse=True)
def pulse_available():
    reason = missing_requirements()
    if reason:
        skip_or_fail(f"live tests need a PulseAudio server: {reason}")


def live_run(server, out_csv, model, *args: str) -> LiveProcess:
    """``ser-live --device pulse`` on ``server``, logging to ``out_csv``."""
    cmd = ["--device", "pulse", "--csv", str(out_csv), "--model", str(model), *args]
    return LiveProcess(cmd, server.client_env())


def read_csv(path):
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == field_names(LABELS)
    assert all(len(row) == len(header) for row in rows)  # every row complete
    return [dict(zip(header, row, strict=True)) for row in rows]


def scenario(name: str, root, model) -> dict:
    """Runs one scenario on its own server; returns what a test needs to check."""
    server = PulseServer(root / name)
    out = root / f"{name}.csv"
    result: dict = {"csv": out}
    with server, Feeder(server) as feeder:
        if name == "three_utterances":
            audio, truth = speech_and_silence(THREE)
            duration = len(audio) / SR + 0.8
            run = live_run(server, out, model, "--duration", f"{duration:.1f}")
            run.wait_listening()
            feeder.play(audio)
            result["code"] = run.finish(duration + 20)
            result["truth"] = truth
        else:
            audio, truth = speech_and_silence(TWO)
            run = live_run(server, out, model)
            run.wait_listening()
            feeder.play(audio)
            run.lines.get(timeout=20)  # the first utterance is logged
            time.sleep(MID_SECOND_S)
            sent = time.monotonic()
            if name == "unplugged":
                server.unload_source()
            elif name == "server_crash":
                server.kill()
            else:
                run.proc.send_signal(signal.SIGINT)
            result["code"] = run.finish(20)
            result["took"] = time.monotonic() - sent
            result["truth"] = truth
        result["stderr"] = run.stderr
    return result


SCENARIOS = ("three_utterances", "unplugged", "server_crash", "sigint")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, linear_model):
    root = tmp_path_factory.mktemp("live")
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {name: pool.submit(scenario, name, root, linear_model) for name in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}


def summary_of(stderr: list[str]) -> str:
    return next(line for line in stderr if line.startswith("summary: "))


def test_live_microphone_logs_one_row_per_utterance(outcomes):
    got = outcomes["three_utterances"]
    assert got["code"] == 0, got["stderr"]
    assert got["stderr"][0] == "ser-live: microphone 0: pulse @ 16000 Hz"
    rows = read_csv(got["csv"])
    truth = got["truth"]
    assert len(rows) == len(truth)
    # The stream started before the recording did: align on the end of the first utterance.
    offset = float(rows[0]["end_s"]) - truth[0][1]
    for row, (start, end) in zip(rows, truth, strict=True):
        assert start - 0.45 <= float(row["start_s"]) - offset <= start + 0.1  # 0.3 s pre-roll
        assert float(row["end_s"]) - offset == pytest.approx(end, abs=0.15)
        probs = [float(row[f"p_{label}"]) for label in LABELS]
        assert sum(probs) == pytest.approx(1.0, abs=1e-4)
        assert row["label"] == LABELS[int(np.argmax(probs))]
        assert float(row["latency_ms"]) > 0
    summary = summary_of(got["stderr"])
    assert summary.startswith("summary: 3 utterances") and "ended by time limit" in summary
    assert "overruns 0 (0.00 s dropped)" in summary
    assert re.search(r"latency median \d+ ms, p95 \d+ ms", summary)


@pytest.mark.parametrize("name", ["unplugged", "server_crash"])
def test_device_lost_mid_utterance_exits_1_with_the_rows_on_disk(outcomes, name):
    got = outcomes[name]
    assert got["code"] == 1, got["stderr"]
    # Nothing but ser-live's own lines: no traceback, no PortAudio/ALSA chatter.
    assert len(got["stderr"]) == 3, got["stderr"]
    listening, summary, error = got["stderr"]
    assert listening.startswith("ser-live: microphone 0: pulse")
    assert summary.startswith("summary: 2 utterances") and "ended by input failure" in summary
    assert error == (
        "ser-live: error: audio input lost: pulse stopped delivering audio "
        "(device unplugged, or the audio server went away)"
    )
    rows = read_csv(got["csv"])
    assert len(rows) == 2  # the first, and what was heard of the second
    heard = float(rows[1]["end_s"]) - float(rows[1]["start_s"])
    assert 0.5 < heard < 3.0


def test_sigint_on_the_live_microphone_stops_within_a_second(outcomes):
    got = outcomes["sigint"]
    assert got["code"] == 0, got["stderr"]
    assert got["took"] < 1.0
    summary = summary_of(got["stderr"])
    assert summary.startswith("summary: 2 utterances") and "ended by stop request" in summary
    rows = read_csv(got["csv"])
    assert len(rows) == 2
    assert 0.5 < float(rows[1]["end_s"]) - float(rows[1]["start_s"]) < 3.0


def run_cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "streamer.live.cli", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_devices_are_listed_and_chosen_by_name_or_index(tmp_path, linear_model):
    with PulseServer(tmp_path / "pa") as server:
        env = server.client_env()
        listing = run_cli(env, "--list-devices")
        assert listing.returncode == 0, listing.stderr
        lines = listing.stdout.splitlines()
        assert lines[0].split() == ["idx", "name", "ch", "rate", "host", "api"]
        names = {}
        for line in lines[1:-1]:
            match = re.match(r"\s*(\d+)\*?\s+(\S+)\s+(\d+)\s+(\d+)\s+(\S+)", line)
            assert match, line
            names[match.group(2)] = (int(match.group(1)), int(match.group(3)), int(match.group(4)))
        assert "pulse" in names and names["pulse"][1] >= 1 and names["pulse"][2] >= 8000
        assert lines[-1] == "* = default input"
        model = ["--model", str(linear_model), "--no-ui"]
        for device, message in [
            ("nosuchmic", "ser-live: error: no input device matches 'nosuchmic'"),
            ("99", "ser-live: error: no input device with index 99"),
        ]:
            result = run_cli(env, *model, "--device", device, "--duration", "1")
            assert result.returncode == 2, result.stderr
            assert len(result.stderr.strip().splitlines()) == 1
            assert result.stderr.startswith(message)
        index = names["pulse"][0]
        for device in (str(index), "PULSE"):  # an index, or a name in any case
            with Feeder(server):
                result = run_cli(env, *model, "--device", device, "--duration", "1")
            assert result.returncode == 0, result.stderr
            assert result.stderr.startswith(f"ser-live: microphone {index}: pulse @ 16000 Hz")


def test_no_input_device_is_a_one_line_error(tmp_path, linear_model):
    env = PulseServer(tmp_path / "none").client_env()  # points at a server that is not running
    listing = run_cli(env, "--list-devices")
    if "no audio input devices found" not in listing.stdout:
        pytest.skip("this machine has its own input devices")
    result = run_cli(env, "--no-ui", "--model", str(linear_model))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ser-live: error: no audio input device found")

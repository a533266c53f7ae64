"""ser-client sends a recording (or the microphone) to the server and prints the lines ser-live
prints for it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import soundfile as sf

BIN = Path(sys.executable).parent


def spans(text: str) -> list[tuple[str, str]]:
    """(times, emotion=...) of each line: what both commands say about each utterance."""
    return re.findall(r"^\s*([\d.]+-\s*[\d.]+ s)\s+(emotion=\S+)", text, re.M)


def test_ser_client_prints_what_ser_live_prints(serve, call_audio, tmp_path):
    audio, rate = call_audio
    wav = tmp_path / "call.wav"
    sf.write(wav, audio[: 16 * rate], rate, subtype="PCM_16")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    live = subprocess.run([BIN / "ser-live", "--input", wav, "--no-ui", "--model", "fast"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert live.returncode == 0, live.stderr
    with serve() as running:
        server = f"ws://127.0.0.1:{running.port}"
        sent = subprocess.run([BIN / "ser-client", wav, "--server", server, "--speed", "8"],
                              capture_output=True, text=True, timeout=120, env=env)
        lines = subprocess.run([BIN / "ser-client", wav, "--server", server, "--speed", "8",
                                "--jsonl"], capture_output=True, text=True, timeout=120, env=env)
    assert sent.returncode == 0, sent.stderr
    assert len(spans(live.stdout)) >= 3 and spans(sent.stdout) == spans(live.stdout)
    events = [json.loads(line) for line in lines.stdout.splitlines()]
    assert events[0]["type"] == "session.started" and events[-1]["type"] == "session.closed"


def test_ser_client_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    for args in ([bad], [tmp_path / "missing.wav"], [bad, "--speed", "0"], [bad, "--mic"],
                 [], [bad, "--duration", "3"], ["--mic", "--duration", "-1"]):
        done = subprocess.run([BIN / "ser-client", *args], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("ser-client: error:")


def test_ser_client_says_when_no_server_answers(tmp_path):
    wav = tmp_path / "a.wav"
    sf.write(wav, [0.0] * 1600, 16000)
    done = subprocess.run([BIN / "ser-client", wav, "--server", "ws://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr


def test_ser_client_streams_the_microphone(serve, call_audio, tmp_path):
    """A private PulseAudio server is the microphone (as in tests/live/test_pulse.py)."""
    from pulse import Feeder, PulseServer, missing_requirements
    from tools import skip_or_fail

    reason = missing_requirements()
    if reason:
        skip_or_fail(f"the microphone test needs a PulseAudio server: {reason}")
    import soxr

    audio, rate = call_audio
    speech = soxr.resample(audio[: 10 * rate] / 32768.0, rate, 16000).astype("float32")
    with serve() as running, PulseServer(tmp_path / "pa") as pulse, Feeder(pulse) as feeder:
        client = subprocess.Popen(
            [BIN / "ser-client", "--mic", "--device", "pulse", "--duration", "12",
             "--server", f"ws://127.0.0.1:{running.port}"],
            env=pulse.client_env({**os.environ, "PYTHONUNBUFFERED": "1"}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        import time

        time.sleep(1.0)  # the client opens the microphone
        feeder.play(speech)
        out, err = client.communicate(timeout=60)
    assert client.returncode == 0, err
    assert len(spans(out)) >= 2, out

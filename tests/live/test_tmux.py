"""ser-live's live view in a real terminal: tmux runs a real-time replay, we read its screen."""

import shlex
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import soundfile as sf
from onnx_factory import LABELS
from synth import SR, speech_and_silence
from tools import require_tool

PATTERN = [("silence", 0.6), ("speech", 1.4), ("silence", 0.9), ("speech", 1.2), ("silence", 0.8)]
PROJECT = Path(__file__).resolve().parents[2]


class Tmux:
    """A private tmux server (its own socket), so the test never touches anyone's sessions."""

    def __init__(self) -> None:
        self.socket = f"ser-live-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return result.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "live")

    def kill(self) -> None:
        self("kill-server")


@pytest.fixture
def tmux():
    require_tool("tmux")  # a skip locally, a failure in CI (make test installs it)
    server = Tmux()
    yield server
    server.kill()


def wait_for(tmux: Tmux, done, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    screen = tmux.screen()
    while not done(screen) and time.monotonic() < deadline:
        time.sleep(0.25)
        screen = tmux.screen()
    return screen


def test_live_view_in_a_100_by_40_terminal(tmp_path, linear_model, tmux):
    audio, truth = speech_and_silence(PATTERN)
    wav = tmp_path / "call.wav"
    sf.write(wav, audio, SR)
    # pytest exports COLUMNS/LINES for itself; the view must size itself from the terminal.
    args = [sys.executable, "-m", "streamer.live.cli", "--input", wav, "--model", linear_model]
    command = f"env -u COLUMNS -u LINES {shlex.join(map(str, args))} --realtime"
    shell = f"{command}; echo EXITED $?; sleep 30"  # the pane stays open to be read
    tmux("new-session", "-d", "-s", "live", "-x", "100", "-y", "40", "-c", str(PROJECT), shell)

    # While it runs: the whole view is on screen, fed in real time.
    running = wait_for(tmux, lambda s: "heard" in s and "utterances 1" in s, timeout_s=8)
    parts = ["ser-live", "level", "elapsed", "latency", "overruns", "timeline", "trend", "mood"]
    for part in [*parts, "now"]:
        assert part in running, f"{part!r} missing from:\n{running}"
    assert "SPEECH" in running or "silence" in running
    assert any(label in running for label in LABELS)

    # At the end: the last frame stays, followed by the summary line.
    final = wait_for(tmux, lambda s: "EXITED" in s, timeout_s=10)
    assert "EXITED 0" in final, final
    assert f"summary: {len(truth)} utterances" in final
    assert f"utterances {len(truth)}" in final and "timeline" in final
    assert max(len(line) for line in final.splitlines()) <= 100
    assert "recent utterances" in final  # 40 rows leave room for the list
    assert max(len(line.rstrip()) for line in final.splitlines()) > 90  # it uses the width


def stereo_call(path: Path) -> tuple[int, int]:
    """Left and right sides taking turns; (utterances left, utterances right)."""
    import numpy as np

    left, left_truth = speech_and_silence(
        [("silence", 0.5), ("speech", 1.4), ("silence", 2.0), ("speech", 1.0), ("silence", 0.8)]
    )
    right, right_truth = speech_and_silence(
        [("silence", 2.2), ("speech", 1.2), ("silence", 0.6), ("speech", 1.2), ("silence", 0.5)]
    )
    n = min(len(left), len(right))
    sf.write(path, np.stack([left[:n], right[:n]], axis=1), SR)
    return len(left_truth), len(right_truth)


@pytest.mark.parametrize(("width", "height"), [(80, 24), (160, 48)])
def test_channels_each_with_the_live_view_in_a_real_terminal(
    tmp_path, linear_model, tmux, width, height
):
    """Issue 21.1: `--channels each` with the live view died ("the live view needs at least one
    snapshot") and left a CSV with its header only. Each channel gets its own labelled strip."""
    wav, log = tmp_path / "stereo.wav", tmp_path / "call.csv"
    left, right = stereo_call(wav)
    args = [sys.executable, "-m", "streamer.live.cli", "--input", wav, "--model", linear_model]
    args += ["--channels", "each", "--csv", log]
    command = f"env -u COLUMNS -u LINES {shlex.join(map(str, args))} --realtime"
    shell = f"{command}; echo EXITED $?; sleep 30"
    size = ["-x", str(width), "-y", str(height)]
    tmux("new-session", "-d", "-s", "live", *size, "-c", str(PROJECT), shell)

    running = wait_for(tmux, lambda s: "ch2 heard" in s and "utterances 1" in s, timeout_s=10)
    lines = running.splitlines()
    assert sum("ch1 heard" in line for line in lines) == 1, running  # one strip per channel,
    assert sum("ch2 heard" in line for line in lines) == 1, running  # each named
    assert "needs at least one snapshot" not in running and "Traceback" not in running

    final = wait_for(tmux, lambda s: "EXITED" in s, timeout_s=15)
    assert "EXITED 0" in final, final
    assert f"summary: {left + right} utterances" in final
    assert max(len(line) for line in final.splitlines()) <= width
    rows = log.read_text().splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == ["1"] * left + ["2"] * right
    if height >= 48:  # room for the recent list, with its channel column
        assert "recent utterances" in final and " ch2 " in final

"""SIGINT and SIGTERM mid-replay: a clean exit 0 within a second, a complete CSV that includes
(or, by setting, drops) the utterance in progress, and the end-of-run summary."""

import csv
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import soundfile as sf
from onnx_factory import LABELS
from synth import SR, speech_and_silence
from tools import terminal_signals

from streamer.sinks.rows import field_names

PATTERN = [("silence", 0.6), ("speech", 1.2), ("silence", 0.9), ("speech", 2.6), ("silence", 1.0)]
FIRST_END_S, SECOND_START_S = 1.8, 2.7
# After the first row appears (stream time ~2.1 s), wait this long: the second utterance is then
# ~1.5 s old, well past min_utterance_s, and a second from its end.
WAIT_AFTER_FIRST_ROW_S = 1.5

SCENARIOS = {
    # name: (signal, extra arguments, rows expected)
    "sigint": (signal.SIGINT, [], 2),
    "sigterm": (signal.SIGTERM, [], 2),
    "sigint_drop_pending": (signal.SIGINT, ["--drop-pending"], 1),
    "sigterm_flush_on_stop_false": (signal.SIGTERM, ["--config", "{drop_config}"], 1),
    "sigterm_ten_times": (signal.SIGTERM, [], 2),
}
# Signals sent in a burst (issue 22.20): the wrap-up the first asked for still happens, rows and
# summary are written, and only then does ser-live leave, with exit 130. How many of a burst
# reach the process before it is done is up to the scheduler (POSIX does not queue a signal
# that is still pending), so here the exit code may be 0; test_a_burst_of_signals_... below
# makes the burst land mid-run every time.
REPEATS = {"sigterm_ten_times": 10}


def scenario(name, wav, tmp, model):
    sig, extra, _ = SCENARIOS[name]
    drop_config = tmp / "drop.toml"
    drop_config.write_text("[segmenter]\nflush_on_stop = false\n")
    extra = [a.format(drop_config=drop_config) for a in extra]
    out = tmp / f"{name}.csv"
    cmd = [sys.executable, "-m", "streamer.live.cli", "--input", str(wav), "--realtime", "--no-ui"]
    proc = subprocess.Popen(
        [*cmd, "--csv", str(out), "--model", str(model), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=terminal_signals,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
    reader.start()
    try:
        first_row = lines.get(timeout=30)
        time.sleep(WAIT_AFTER_FIRST_ROW_S)
        sent = time.monotonic()
        for _ in range(REPEATS.get(name, 1)):
            proc.send_signal(sig)
        proc.wait(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    return {
        "code": proc.returncode,
        "took": took,
        "stderr": proc.stderr.read(),
        "first_row": first_row,
        "csv": out,
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory, linear_model):
    tmp = tmp_path_factory.mktemp("signals")
    audio, truth = speech_and_silence(PATTERN)
    assert truth[0][1] == pytest.approx(FIRST_END_S)
    assert truth[1][0] == pytest.approx(SECOND_START_S)
    wav = tmp / "two.wav"
    sf.write(wav, audio, SR)
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {n: pool.submit(scenario, n, wav, tmp, linear_model) for n in SCENARIOS}
        return {n: f.result() for n, f in futures.items()}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_signal_stops_cleanly_and_keeps_the_results(results, name):
    got = results[name]
    rows_expected = SCENARIOS[name][2]
    repeated = name in REPEATS and got["code"] == 130
    assert got["code"] == (130 if repeated else 0), got["stderr"]
    assert got["took"] < 1.0  # "shut down cleanly within a second"
    assert "Traceback" not in got["stderr"] and "KeyboardInterrupt" not in got["stderr"]
    said = got["stderr"].strip().splitlines()
    if repeated:  # the summary, then the word that the stop was asked for again
        assert said[-1] == "ser-live: interrupted", said
        said = said[:-1]
    summary = said[-1]
    assert summary.startswith(f"summary: {rows_expected} utterance")
    assert "ended by stop request" in summary
    with open(got["csv"], newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == field_names(LABELS)
        rows = [dict(zip(field_names(LABELS), r, strict=True)) for r in reader]
    assert len(rows) == rows_expected
    assert float(rows[0]["end_s"]) == pytest.approx(FIRST_END_S, abs=0.15)
    if rows_expected == 2:  # the utterance in progress, classified from what was heard
        assert float(rows[1]["start_s"]) <= SECOND_START_S
        heard_s = float(rows[1]["end_s"]) - SECOND_START_S
        assert 0.5 < heard_s < 2.6  # cut short by the signal, not run to its end
        assert sum(float(rows[1][f"p_{label}"]) for label in LABELS) == pytest.approx(1, abs=1e-4)


def test_a_burst_of_signals_mid_utterance_still_writes_rows_and_summary(
    tmp_path, linear_model, monkeypatch, capsys
):
    """Ten SIGTERMs as the second utterance is being spoken (sent by the process to itself at
    its first provisional result, so they land mid-run every time): exit 130, but only after
    the utterance in progress is classified and the summary printed (it was 130 with neither)."""
    import os

    from streamer.live.cli import main
    from streamer.sinks.jsonl_log import JsonlSink

    audio, _ = speech_and_silence(PATTERN)
    wav, out, jsonl = tmp_path / "two.wav", tmp_path / "two.csv", tmp_path / "two.jsonl"
    sf.write(wav, audio, SR)
    write = JsonlSink.write

    def write_then_signal(self, prediction):
        write(self, prediction)
        if not prediction.final and prediction.start_s > FIRST_END_S:
            for _ in range(10):
                os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(JsonlSink, "write", write_then_signal)
    args = ["--input", str(wav), "--realtime", "--no-ui", "--model", str(linear_model)]
    code = main([*args, "--csv", str(out), "--jsonl", str(jsonl)])
    said = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and said[-1] == "ser-live: interrupted", said
    assert said[-2].startswith("summary: 2 utterances") and "ended by stop request" in said[-2]
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and float(rows[1]["start_s"]) <= SECOND_START_S  # the one in progress

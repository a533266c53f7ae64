"""22.12 + 21.5: a file cut short of its header's length, or truncated while it is read, was
reported "ended by end of input", ``ok``, exit 0. Now: a warning, "ended by truncated input",
exit 1 from ser-live; ``status=truncated`` with a note from ser-batch; the rows before the cut
are kept either way (one fix, in the file source, for both commands)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import soundfile as sf

from streamer.engine.build import load_model, stream_for
from streamer.engine.run import InputLost, run
from streamer.settings import load_settings
from streamer.sources.file import FileSource
from tests.faults.commands import calls_by_name, no_traceback, rows_of, ser_batch, ser_live

CUT_S = 15.0


def cut_wav(source, target, keep_s: float) -> float:
    """``target``: ``source``'s header (claiming its whole length) with only ``keep_s`` of its
    audio; returns the length the header claims."""
    info = sf.info(source)
    data = source.read_bytes()
    header = data.index(b"data") + 8
    frame_bytes = len(data[header:]) // info.frames
    target.write_bytes(data[: header + int(keep_s * info.samplerate) * frame_bytes])
    return info.duration


def test_ser_live_says_truncated_keeps_the_rows_and_exits_1(demo_call, tmp_path):
    whole = tmp_path / "whole.csv"
    assert ser_live("--input", demo_call, "--no-ui", "--fast", "--csv", whole).returncode == 0
    cut = tmp_path / "cut.wav"
    claimed = cut_wav(demo_call, cut, CUT_S)
    result = ser_live("--input", cut, "--no-ui", "--fast", "--csv", tmp_path / "cut.csv")
    no_traceback(result)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "ended by truncated input" in lines[-2]
    assert lines[-1] == (
        f"ser-live: error: {cut} is truncated: its audio ends at {CUT_S:.2f} s, "
        f"the header says {claimed:.2f} s"
    )
    before_cut = [r for r in rows_of(whole) if float(r["end_s"]) < CUT_S - 0.5]
    kept = rows_of(tmp_path / "cut.csv")
    assert len(kept) >= len(before_cut) >= 3
    assert [r["start_s"] for r in kept[: len(before_cut)]] == [r["start_s"] for r in before_cut]


def test_the_88_s_header_with_047_s_of_audio(demo_call, tmp_path):
    long_call = tmp_path / "long.wav"
    audio, rate = sf.read(demo_call, dtype="float32")
    sf.write(long_call, np.tile(audio, 3)[: int(88 * rate)], rate, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut_wav(long_call, cut, 0.47)
    result = ser_live("--input", cut, "--no-ui", "--fast")
    assert result.returncode == 1
    assert "its audio ends at 0.47 s, the header says 88.00 s" in result.stderr


def test_a_file_truncated_while_ser_live_replays_it(demo_call, tmp_path):
    path = tmp_path / "growing.wav"
    path.write_bytes(demo_call.read_bytes())
    process = subprocess.Popen(
        [sys.executable, "-m", "streamer.live.cli", "--input", str(path), "--no-ui"]
        + ["--realtime", "--csv", str(tmp_path / "out.csv")],
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)  # replaying in real time: about 1.5 s of audio read by now
    with open(path, "r+b") as handle:
        handle.truncate(len(demo_call.read_bytes()) // 4)  # about 9 s left
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "ended by truncated input" in stderr and "is truncated" in stderr


def test_the_engine_reports_a_file_cut_while_it_is_read(demo_call, tmp_path):
    """The same in-process: the file shrinks after the first chunk has been read."""
    path = tmp_path / "call.wav"
    path.write_bytes(demo_call.read_bytes())
    settings = load_settings()
    source = FileSource(path, 30, realtime=False, chunk_s=4.0)
    stream = stream_for(source, load_model(settings), settings, False)

    class CutAfterFirstRow:
        rows = 0

        def write(self, prediction) -> None:
            if prediction.final and not self.rows:
                with open(path, "r+b") as handle:
                    handle.truncate(path.stat().st_size // 2)
            self.rows += prediction.final

        def close(self) -> None:
            pass

    sink = CutAfterFirstRow()
    try:
        run(source, stream, [sink], threading.Event())
    except InputLost as lost:
        assert lost.summary.ended_by == "truncated input"
        assert "is truncated" in str(lost)
    else:
        raise AssertionError("a file cut short while read ended as if it were whole")
    finally:
        source.close()
    assert sink.rows >= 2


def test_ser_batch_marks_it_truncated_keeps_its_rows_and_says_so(demo_call, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "whole.wav").write_bytes(demo_call.read_bytes())
    cut_wav(demo_call, calls / "cut.wav", CUT_S)
    flac = calls / "cut.flac"
    audio, rate = sf.read(demo_call, dtype="float32")
    sf.write(flac, audio, rate, subtype="PCM_16")
    flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    out = tmp_path / "out"
    result = ser_batch(calls, "--out", out, "--workers", 2)
    no_traceback(result)
    assert result.returncode == 1
    assert "2 of 3 recordings truncated" in result.stderr
    rows = calls_by_name(out)
    assert rows["whole.wav"]["status"] == "ok" and rows["whole.wav"]["note"] == ""
    for name in ("cut.wav", "cut.flac"):
        row = rows[name]
        assert row["status"] == "truncated", row
        assert "is truncated: its audio ends at" in row["note"]
        assert int(row["utterances"]) == len(rows_of(out / row["output"])) >= 2
    again = ser_batch(calls, "--out", out, "--workers", 1)
    assert "3 of 3 recordings done before" in again.stderr and again.returncode == 1

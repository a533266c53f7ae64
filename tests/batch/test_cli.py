"""ser-batch end to end, through its command line: a generated archive with a broken and an empty
file gives ser-live's CSVs, a calls.csv row per input, exit 1, and a rerun rewrites nothing."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from archive import make_archive, read_calls, ser_batch
from tools import require_tool, terminal_signals

from streamer.batch.cli import main as batch_main
from streamer.live.cli import main as live_main

CALLS = 6


def ours(path: Path) -> bool:
    """The run's lock files, which every run opens (not outputs)."""
    return path.name.startswith(".ser-batch.")


def mtimes(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and not ours(p)}


def test_every_csv_equals_the_one_ser_live_writes(batch_archive, tmp_path):
    calls, good, out, result = batch_archive
    for path in good:
        reference = tmp_path / f"{path.name}.csv"
        code = live_main(["--input", str(path), "--no-ui", "--fast", "--csv", str(reference)])
        assert code == 0
        produced = out / (str(path.relative_to(calls)) + ".csv")
        assert produced.read_bytes() == reference.read_bytes(), produced
        assert produced.with_suffix(".jsonl").is_file()
        reference_jsonl = reference.with_suffix(".jsonl")  # provisional results included
        live_main(["--input", str(path), "--no-ui", "--fast", "--jsonl", str(reference_jsonl)])
        assert produced.with_suffix(".jsonl").read_bytes() == reference_jsonl.read_bytes()


def test_both_sides_of_stereo_calls_as_ser_live_logs_them(tmp_path):
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    calls = tmp_path / "calls"
    make_sample(calls / "call.wav", stereo=True)
    out = tmp_path / "out"
    result = ser_batch(calls, "--out", out, "--channels", "each", "--workers", 1)
    assert result.returncode == 0, result.stderr
    reference = tmp_path / "live.csv"
    args = ["--input", str(calls / "call.wav"), "--channels", "each", "--no-ui", "--fast"]
    assert live_main([*args, "--csv", str(reference)]) == 0
    produced = out / "call.wav.csv"
    assert produced.read_bytes() == reference.read_bytes()
    with open(produced, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["channel"] for row in rows] == ["1", "2", "1", "2", "1", "2", "2"]
    with open(out / "calls.csv", newline="") as handle:
        summary = {row["channel"]: row for row in csv.DictReader(handle)}
    assert set(summary) == {"", "1", "2"}  # the call, then each side
    assert int(summary["1"]["utterances"]) + int(summary["2"]["utterances"]) == 7
    assert int(summary[""]["utterances"]) == 7
    # a rerun with the downmix would replace these rows: refused without --replace (21.13)
    before = produced.read_bytes()
    again = ser_batch(calls, "--out", out, "--workers", 1)
    assert again.returncode == 2
    assert "other settings (channels: each -> mix)" in again.stderr and "--replace" in again.stderr
    assert produced.read_bytes() == before
    replaced = ser_batch(calls, "--out", out, "--workers", 1, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "channel" not in produced.read_text().splitlines()[0]


def test_calls_csv_has_a_row_per_input_and_failures_say_why(batch_archive):
    calls, good, out, result = batch_archive
    rows = read_calls(out)
    assert len(rows) == CALLS + 2  # notes.txt is not audio and not an input
    assert rows["empty.wav"]["status"] == "error"
    assert "empty" in rows["empty.wav"]["error"]
    assert rows["broken.wav"]["status"] == "error"
    assert "cannot read" in rows["broken.wav"]["error"]
    for path in good:
        row = rows[path.name]
        assert row["status"] == "ok" and row["error"] == ""
        with open(out / row["output"], newline="") as handle:
            timeline = list(csv.DictReader(handle))
        assert int(row["utterances"]) == len(timeline) > 0
        speech = sum(float(t["end_s"]) - float(t["start_s"]) for t in timeline)
        assert float(row["speech_s"]) == pytest.approx(speech, abs=0.01)
        assert float(row["duration_s"]) == pytest.approx(sf.info(str(path)).duration, abs=0.01)
        shares = [float(v) for k, v in row.items() if k.startswith("share_")]
        assert sum(shares) == pytest.approx(1.0, abs=1e-3)
        assert -1 <= float(row["valence"]) <= 1 and -1 <= float(row["arousal"]) <= 1
        assert row["peak_arousal_label"] in {t["label"] for t in timeline}
        assert float(row["processing_s"]) > 0


def test_failures_make_exit_1_and_are_counted(batch_archive):
    *_, result = batch_archive
    assert result.returncode == 1, result.stderr
    assert f"2 of {CALLS + 2} recordings failed" in result.stderr
    assert "Traceback" not in result.stderr
    left = [p for p in batch_archive[2].rglob(".*") if not ours(p)]
    assert not left  # no temporary left


def test_a_rerun_rewrites_nothing_and_a_changed_input_is_redone(batch_archive, tmp_path):
    calls, good, out, _ = batch_archive
    before = mtimes(out)
    again = ser_batch(calls, "--out", out, "--workers", 2, "--jsonl")
    assert again.returncode == 1
    assert f"{CALLS + 2} of {CALLS + 2} recordings done before" in again.stderr
    assert mtimes(out) == before
    # One recording changes (in a copy of the outputs): only that one is done again.
    copy_out = tmp_path / "reviewed"
    shutil.copytree(out, copy_out)
    copied = mtimes(copy_out)
    original, stamp = good[3].read_bytes(), good[3].stat()
    try:
        shutil.copyfile(good[2], good[3])
        redone = ser_batch(calls, "--out", copy_out, "--workers", 1, "--jsonl")
    finally:  # the archive is the session's: as it was, to the nanosecond
        good[3].write_bytes(original)
        os.utime(good[3], ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    changed = {p.name for p, t in mtimes(copy_out).items() if copied.get(p) != t}
    target = str(good[3].relative_to(calls))
    assert redone.returncode == 1
    assert changed == {f"{Path(target).name}.csv", f"{Path(target).name}.jsonl", "calls.csv"} | {
        "calls.sqlite"
    }


def test_retry_failed_tries_the_broken_files_again(batch_archive, tmp_path):
    calls, good, out, _ = batch_archive
    copy_out = tmp_path / "reviewed"
    shutil.copytree(out, copy_out)
    before = mtimes(copy_out)
    result = ser_batch(calls, "--out", copy_out, "--retry-failed", "--jsonl")
    assert result.returncode == 1
    assert "broken.wav: error" in result.stderr and "empty.wav: error" in result.stderr
    assert "call0.wav" not in result.stderr
    timelines = [p for p in before if p.name.endswith((".wav.csv", ".flac.csv", ".jsonl"))]
    assert all(mtimes(copy_out)[p] == before[p] for p in timelines)


def test_ctrl_c_keeps_finished_recordings_and_a_rerun_finishes(tmp_path):
    calls = tmp_path / "calls"
    make_archive(calls, calls=6, seconds=25.0)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "streamer.batch.cli",
        str(calls),
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, preexec_fn=terminal_signals
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "calls.csv").is_file() and len((out / "calls.csv").read_text().splitlines()) > 1:
            process.send_signal(signal.SIGINT)
            break
        time.sleep(0.02)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    rows = read_calls(out)
    assert 1 <= len(rows) < 8
    for row in rows.values():  # every recording with a row is whole on disk
        if row["status"] == "ok":
            assert (out / row["output"]).is_file()
    assert not [p for p in out.rglob(".*") if not ours(p)]
    finished = ser_batch(calls, "--out", out)
    assert finished.returncode == 1
    assert len(read_calls(out)) == 8


def test_reports_are_drawn_from_each_timeline(tmp_path):
    calls = tmp_path / "calls"
    good = make_archive(calls, calls=1)
    result = ser_batch(calls, "--out", tmp_path / "out", "--workers", 1, "--report", "html")
    assert result.returncode == 1, result.stderr  # broken.wav and empty.wav
    page = (tmp_path / "out" / f"{good[0].name}.report.html").read_text()
    assert "<img" in page and f"{good[0].name}.csv" in page
    assert ".part" not in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/calls", "--workers", "0"], "--workers must be at least 1"),
        (["@{tmp}/nope.txt"], "cannot read list file"),
        (["{tmp}/nothing"], "no audio files found"),
        (["{tmp}/calls", "--model", "{tmp}/missing.onnx"], "model not found"),
        (["{tmp}/calls", "--config", "{tmp}/missing.toml"], "config"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "nothing").mkdir()
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "a.wav").write_bytes(b"")
    argv = [a.format(tmp=tmp_path) for a in args] + ["--out", str(tmp_path / "out")]
    code = batch_main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "out").exists()

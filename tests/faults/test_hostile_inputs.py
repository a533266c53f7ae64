"""Inputs that used to hang, crash or overwrite: 22.4 (names that collide with the summary or
each other), 22.8 (a name that is not UTF-8), 22.9 (a FIFO), 22.16 (linked folders and loops),
22.18 (a name that is a spreadsheet formula), 22.20 (a list file with a byte-order mark)."""

from __future__ import annotations

import csv
import os
import shutil
import time

from tests.faults.commands import calls_by_name, no_traceback, rows_of, ser_batch


def test_names_that_collide_are_all_written_and_none_overwrites_the_summary(demo_call, tmp_path):
    calls = tmp_path / "calls"
    for name in ("a/x.wav", "b/x.wav", "calls"):
        (calls / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_call, calls / name)
    out = tmp_path / "out"
    listed = [calls / "a" / "x.wav", calls / "b" / "x.wav", calls / "calls"]
    result = ser_batch(*listed, "--out", out, "--workers", 2)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    rows = {r["path"]: r for r in rows_of(out / "calls.csv")}  # calls.csv is the summary
    assert {rows[str(p)]["output"] for p in listed} == {"x.wav.csv", "x~2.wav.csv", "calls~2.csv"}
    for path in listed:
        assert len(rows_of(out / rows[str(path)]["output"])) == 7
    assert "are named x~2.wav.*" in result.stderr and "are named calls~2.*" in result.stderr
    again = ser_batch(*reversed(listed), "--out", out, "--workers", 1)  # names stay put
    assert "3 of 3 recordings done before" in again.stderr


def test_a_name_that_is_not_utf8_is_recorded_escaped_and_the_run_goes_on(demo_call, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    odd = os.fsdecode(b"caf\xe9 \xff.wav")
    shutil.copyfile(demo_call, calls / odd)
    shutil.copyfile(demo_call, calls / "plain.wav")
    out = tmp_path / "out"
    for _ in range(2):  # the rerun too
        result = ser_batch(calls, "--out", out, "--workers", 2, "--report", "html")
        no_traceback(result)
        assert result.returncode == 0, result.stderr
    rows = calls_by_name(out)
    assert set(rows) == {"caf\\xe9 \\xff.wav", "plain.wav"}
    row = rows["caf\\xe9 \\xff.wav"]
    assert row["status"] == "ok" and row["output"] == "caf\\xe9 \\xff.wav.csv"
    assert (out / (odd + ".csv")).is_file() and (out / (odd + ".report.html")).is_file()
    assert 'href="caf%E9%20%FF.wav.report.html"' in (out / "index.html").read_text()


def test_a_fifo_is_refused_up_front_and_the_rest_is_processed(demo_call, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copyfile(demo_call, calls / "a.wav")
    os.mkfifo(calls / "pipe.wav")
    started = time.monotonic()
    result = ser_batch(calls, calls / "pipe.wav", "--out", tmp_path / "out", timeout=60)
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    refusal = [line for line in result.stderr.splitlines() if line.startswith("ser-batch: refu")]
    assert refusal == [
        f"ser-batch: refused {calls / 'pipe.wav'} without opening it: not a regular file "
        "(a FIFO)"
    ]
    rows = calls_by_name(tmp_path / "out")
    assert rows["a.wav"]["status"] == "ok"
    assert (rows["pipe.wav"]["status"], rows["pipe.wav"]["error"]) == (
        "error",
        "not a regular file (a FIFO)",
    )


def test_linked_folders_are_followed_and_a_loop_is_reported(demo_call, tmp_path):
    calls, elsewhere = tmp_path / "calls", tmp_path / "elsewhere"
    calls.mkdir()
    elsewhere.mkdir()
    shutil.copyfile(demo_call, calls / "a.wav")
    shutil.copyfile(demo_call, elsewhere / "b.wav")
    os.symlink(elsewhere, calls / "linked")
    os.symlink(calls, elsewhere / "back")
    out = tmp_path / "out"
    result = ser_batch(calls, "--out", out, "--workers", 2, timeout=60)
    assert result.returncode == 0, result.stderr
    assert set(calls_by_name(out)) == {"a.wav", "b.wav"}
    assert (out / "linked" / "b.wav.csv").is_file()
    assert f"ser-batch: skipped {calls / 'linked' / 'back'}: a link to {calls}" in result.stderr


def test_a_formula_for_a_name_is_text_in_calls_csv(demo_call, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copyfile(demo_call, calls / "=cmd|calc!A1.wav")
    shutil.copyfile(demo_call, calls / "-2+3.wav")
    out = tmp_path / "out"
    assert ser_batch(calls, "--out", out, "--workers", 2).returncode == 0
    with open(out / "calls.csv", newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'=cmd|calc!A1.wav.csv" in cells and "'-2+3.wav.csv" in cells
    formulas = [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert not formulas and not [c for c in cells if c.startswith("-") and not _number(c)]
    for timeline in out.glob("*.wav.csv"):
        with open(timeline, newline="", encoding="utf-8") as handle:
            assert not [c for row in csv.reader(handle) for c in row if c.startswith("=")]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_a_list_file_with_a_byte_order_mark_keeps_its_first_entry(demo_call, tmp_path):
    first, second = tmp_path / "first.wav", tmp_path / "second.wav"
    shutil.copyfile(demo_call, first)
    shutil.copyfile(demo_call, second)
    listing = tmp_path / "todo.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{first}\r\n{second}\r\n".encode())
    result = ser_batch(f"@{listing}", "--out", tmp_path / "out", "--workers", 2)
    assert result.returncode == 0, result.stderr
    assert {r["status"] for r in calls_by_name(tmp_path / "out").values()} == {"ok"}
    assert set(calls_by_name(tmp_path / "out")) == {"first.wav", "second.wav"}

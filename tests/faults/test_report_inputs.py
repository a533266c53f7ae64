"""22.10: ser-report spun for minutes on a row with end_s=1e100, gave a ValueError traceback at
1e308 and a RecursionError on a JSONL line of nested brackets. Timelines are checked on read:
one line, exit 2, in bounded time."""

from __future__ import annotations

import csv
import time

import pytest

from tests.faults.commands import ser_report

HEADER = ["start_s", "end_s", "wall_time", "label", "confidence", "p_neutral", "p_angry"]
ROW = ["1.0", "2.5", "", "neutral", "0.7", "0.7", "0.3"]
BOUND_S = 30.0  # the whole command, start-up and matplotlib's import included


def write_csv(path, end_s: str) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(ROW)
        writer.writerow(["3.0", end_s, "", "angry", "0.6", "0.4", "0.6"])


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ser-report: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("end_s", "says"),
    [
        ("1e100", "end_s 1e+100 is past"),
        ("1e308", "end_s 1e+308 is past"),
        ("1e400", "not a finite number"),
        ("nan", "not a finite number"),
        ("-inf", "not a finite number"),
    ],
)
def test_impossible_times_are_one_line(tmp_path, end_s, says):
    timeline = tmp_path / "call.csv"
    write_csv(timeline, end_s)
    started = time.monotonic()
    result = ser_report(timeline, "-o", tmp_path / "r.png", timeout=BOUND_S)
    assert time.monotonic() - started < BOUND_S
    assert says in one_line_error(result)
    assert not (tmp_path / "r.png").exists()


def test_the_longest_time_accepted_still_draws_in_bounded_time(tmp_path):
    timeline = tmp_path / "call.csv"
    write_csv(timeline, "9999000")  # 116 days: the limit
    result = ser_report(timeline, "-o", tmp_path / "r.html", timeout=BOUND_S)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"start_s": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"start_s": 1' + "0" * 10_000 + ', "end_s": 2}',
    ],
    ids=["nested-brackets", "nested-in-a-field", "10000-digit-number"],
)
def test_hostile_json_lines_are_one_line(tmp_path, line):
    timeline = tmp_path / "call.jsonl"
    good = '{"start_s": 1.0, "end_s": 2.0, "p_neutral": 0.6, "p_angry": 0.4}\n'
    timeline.write_text(good + line + "\n" + good)
    result = ser_report(timeline, "-o", tmp_path / "r.png", timeout=BOUND_S)
    assert "line 2" in one_line_error(result)

"""ser-live's logs (issues 21.10, 22.7, 22.20): an existing log is never destroyed without being
told to (--overwrite, --append), a row says whether it was shown as uncertain, and `--csv -`
writes the CSV to stdout as `--jsonl -` writes JSON lines."""

import csv
import io
import json

import pytest
import soundfile as sf
from onnx_factory import LABELS
from synth import SR, speech_and_silence

from streamer.live.cli import main
from streamer.sinks.rows import field_names

PATTERN = [("silence", 0.6), ("speech", 1.4), ("silence", 0.9), ("speech", 1.2), ("silence", 0.8)]


@pytest.fixture
def call(tmp_path):
    audio, truth = speech_and_silence(PATTERN)
    path = tmp_path / "call.wav"
    sf.write(path, audio, SR)
    return path, len(truth)


def run(call, linear_model, *flags):
    return main(["--input", str(call[0]), "--no-ui", "--model", str(linear_model), *flags])


def rows_of(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("flag", ["--csv", "--jsonl"])
def test_an_existing_log_is_refused_and_kept(tmp_path, call, linear_model, capsys, flag):
    log = tmp_path / "old.log"
    log.write_text("start_s,end_s\n1,2\n")
    assert run(call, linear_model, flag, str(log)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"ser-live: error: {flag} {log} already exists; add --overwrite to replace it or "
        "--append to add rows to it"
    ]
    assert log.read_text() == "start_s,end_s\n1,2\n"


def test_overwrite_replaces_and_an_empty_file_needs_no_flag(tmp_path, call, linear_model):
    log = tmp_path / "t.csv"
    log.write_text("something else\n")
    assert run(call, linear_model, "--csv", str(log), "--overwrite") == 0
    assert rows_of(log)[0] == field_names(LABELS) and len(rows_of(log)) == 1 + call[1]
    empty = tmp_path / "empty.csv"
    empty.touch()  # nothing there to lose
    assert run(call, linear_model, "--csv", str(empty)) == 0
    assert len(rows_of(empty)) == 1 + call[1]


def test_append_adds_rows_under_the_one_header(tmp_path, call, linear_model):
    log, jsonl = tmp_path / "t.csv", tmp_path / "t.jsonl"
    assert run(call, linear_model, "--csv", str(log), "--jsonl", str(jsonl)) == 0
    first, first_jsonl = log.read_text(), jsonl.read_text()
    assert run(call, linear_model, "--csv", str(log), "--jsonl", str(jsonl), "--append") == 0
    rows = rows_of(log)
    assert rows.count(field_names(LABELS)) == 1 and len(rows) == 1 + 2 * call[1]
    assert log.read_text().startswith(first) and jsonl.read_text().startswith(first_jsonl)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sum(r["final"] for r in records) == 2 * call[1]


def test_append_refuses_a_log_of_other_columns(tmp_path, call, linear_model, capsys):
    log = tmp_path / "t.csv"
    assert run(call, linear_model, "--csv", str(log)) == 0
    before = log.read_bytes()
    capsys.readouterr()
    assert run(call, linear_model, "--csv", str(log), "--append", "--channel", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has other columns" in err[0] and "--overwrite" in err[0]
    assert log.read_bytes() == before


def test_append_refuses_a_log_that_ends_mid_row(tmp_path, call, linear_model, capsys):
    log = tmp_path / "t.csv"
    assert run(call, linear_model, "--csv", str(log)) == 0
    log.write_bytes(log.read_bytes()[:-5])  # a torn last row
    before = log.read_bytes()
    assert run(call, linear_model, "--csv", str(log), "--append") == 2
    assert "incomplete row" in capsys.readouterr().err
    assert log.read_bytes() == before


def test_overwrite_or_append_without_a_log_file_is_a_usage_error(call, linear_model, capsys):
    assert run(call, linear_model, "--append") == 2
    assert "--append is about the --csv/--jsonl log files" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # one or the other
        run(call, linear_model, "--csv", "x.csv", "--overwrite", "--append")
    assert exited.value.code == 2


def test_each_row_says_whether_it_was_shown_as_uncertain(tmp_path, call, linear_model):
    log = tmp_path / "t.csv"
    high = tmp_path / "high.toml"  # every row under the threshold: all shown as uncertain
    high.write_text("[ui]\nuncertain_from_model = false\nuncertain_below = 1.0\n")
    assert run(call, linear_model, "--csv", str(log), "--config", str(high)) == 0
    rows = list(csv.DictReader(io.StringIO(log.read_text())))
    assert rows and all(row["shown"] == "uncertain" for row in rows)
    assert all(row["label"] in LABELS for row in rows)  # the arg-max is kept beside it
    log.unlink()
    assert run(call, linear_model, "--csv", str(log)) == 0  # the test model is sure: 100 %
    rows = list(csv.DictReader(io.StringIO(log.read_text())))
    assert [row["shown"] for row in rows] == [row["label"] for row in rows]


def test_csv_dash_writes_the_csv_to_stdout_and_nothing_else(call, linear_model, capsys):
    """Issue 22.20: `--csv -` wrote a file named "-"."""
    assert run(call, linear_model, "--csv", "-") == 0
    out, err = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == field_names(LABELS) and len(rows) == 1 + call[1]
    assert "summary:" in err and "summary" not in out  # the summary stays on stderr


def test_csv_and_jsonl_cannot_both_take_stdout(call, linear_model, capsys):
    assert run(call, linear_model, "--csv", "-", "--jsonl", "-") == 2
    assert "cannot both write to stdout" in capsys.readouterr().err

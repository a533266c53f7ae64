"""Logs and headless lines: JSONL carries the CSV's fields; stdout lines are gated and greppable."""

import csv
import io
import json
import re

import pytest
import soundfile as sf
from predictions import LABELS, one_hot, prediction
from synth import SR, speech_and_silence

from streamer.live.cli import main
from streamer.sinks.console_lines import LineSink, format_line
from streamer.sinks.csv_log import CsvSink
from streamer.sinks.jsonl_log import JsonlSink

LINE = re.compile(
    r"^ *\d+\.\d\d- *\d+\.\d\d s  emotion=(\S+) (\d+ %|\(leaning \S+ \d+ %\)) +"
    r"valence=([+-]\d\.\d\d) arousal=([+-]\d\.\d\d)  \[(\S+=\d\.\d\d ?)+\]$"
)


def test_a_line_names_the_emotion_its_confidence_mood_and_runners_up():
    line = format_line(prediction(1.5, 3.25, (0.1, 0.2, 0.05, 0.65)), uncertain_below=0.4)
    # valence = .1*0 + .2*.85 + .05*-.8 + .65*-.6 = -0.26; arousal = .2*.35 + .05*-.4 + .65*.8
    assert line.startswith("    1.50-    3.25 s  emotion=angry 65 %  ")
    assert line.endswith("  valence=-0.26 arousal=+0.57  [angry=0.65 happy=0.20 neutral=0.10]")
    assert LINE.match(line)


def test_lines_below_the_gate_say_uncertain_and_what_it_leaned_to():
    line = format_line(prediction(0, 1, (0.3, 0.35, 0.2, 0.15)), uncertain_below=0.4)
    match = LINE.match(line)
    assert match and match.group(1) == "uncertain"
    assert "emotion=uncertain (leaning happy 35 %)  " in line and "[happy=0.35" in line


def test_lines_line_up_whatever_they_say():
    sure, unsure = one_hot(0, 1, "sad", p=1.0), prediction(0, 1, (0.3, 0.35, 0.2, 0.15))
    assert format_line(sure, 0.4).index("valence") == format_line(unsure, 0.4).index("valence")


def test_line_sink_writes_one_flushed_line_per_prediction():
    stream = io.StringIO()
    sink = LineSink(0.4, stream)
    for p in (one_hot(0, 1, "sad"), one_hot(2, 3, "happy")):
        sink.write(p)
    lines = stream.getvalue().splitlines()
    assert [LINE.match(line).group(1) for line in lines] == ["sad", "happy"]


def test_jsonl_objects_carry_exactly_the_csv_fields(tmp_path):
    predictions = [one_hot(0.5, 2.0, "angry"), prediction(3.0, 4.0, (0.3, 0.35, 0.2, 0.15))]
    csv_sink, jsonl_sink = (
        CsvSink(tmp_path / "t.csv", LABELS, uncertain_below=0.4),
        JsonlSink(tmp_path / "t.jsonl", LABELS, uncertain_below=0.4),
    )
    for p in predictions:
        csv_sink.write(p)
        jsonl_sink.write(p)
    csv_sink.close()
    jsonl_sink.close()
    with open(tmp_path / "t.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(records) == len(rows) == 2
    for row, record in zip(rows, records, strict=True):
        assert list(record) == [*row, "final"]  # the CSV's fields in its order, then "final"
        assert record["final"] is True
        assert record["label"] == row["label"]
        for key in row:
            if key in ("label", "wall_time", "shown"):
                continue
            if row[key] == "":  # no point on the mood plane: empty in CSV, null in JSON
                assert record[key] is None
            else:
                assert record[key] == pytest.approx(float(row[key]))
    # Below the gate the logs still hold the arg-max and say it was shown as uncertain.
    assert records[1]["label"] == "happy" and records[1]["confidence"] == 0.35
    assert records[1]["shown"] == rows[1]["shown"] == "uncertain"
    assert records[0]["shown"] == rows[0]["shown"] == "angry"


def test_cli_writes_jsonl_alongside_csv(tmp_path, linear_model, capsys):
    audio, truth = speech_and_silence(
        [("silence", 0.8), ("speech", 1.5), ("silence", 1.0), ("speech", 1.2), ("silence", 1.0)]
    )
    wav = tmp_path / "call.wav"
    sf.write(wav, audio, SR)
    args = ["--input", str(wav), "--no-ui", "--model", str(linear_model)]
    out_csv, out_jsonl = tmp_path / "t.csv", tmp_path / "t.jsonl"
    assert main([*args, "--csv", str(out_csv), "--jsonl", str(out_jsonl)]) == 0
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = [json.loads(line) for line in out_jsonl.read_text().splitlines()]
    finals = [r for r in records if r["final"]]
    assert len(finals) == len(rows) == len(truth)
    assert [r["start_s"] for r in finals] == [float(row["start_s"]) for row in rows]
    # the 1.5 s utterance got a provisional result after 1 s of speech, before its final
    partial = [k for k, r in enumerate(records) if not r["final"]]
    assert len(partial) >= 1 and records[partial[0]]["start_s"] == finals[0]["start_s"]
    assert partial[0] < records.index(finals[0])
    stdout = capsys.readouterr().out.splitlines()
    assert len(stdout) == len(truth) and all(LINE.match(line) for line in stdout)


def test_cli_screenshot_saves_the_last_frame(tmp_path, linear_model, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 1.5), ("silence", 1.0)])
    wav = tmp_path / "call.wav"
    sf.write(wav, audio, SR)
    shot = tmp_path / "live.svg"
    args = ["--input", str(wav), "--no-ui", "--model", str(linear_model)]
    assert main([*args, "--screenshot", str(shot)]) == 0
    svg = shot.read_text()
    assert svg.startswith("<svg") and "timeline" in svg and "utterances&#160;1" in svg


@pytest.mark.parametrize("sink_type", [CsvSink, JsonlSink])
def test_a_row_the_disk_cannot_take_is_rolled_back(tmp_path, monkeypatch, sink_type):
    """A full disk typically takes part of a write and then refuses the rest."""
    import errno
    import os

    from streamer.sinks.rowfile import LogWriteError

    path = tmp_path / "log"
    sink = sink_type(path, LABELS, uncertain_below=0.4)
    sink.write(one_hot(0.0, 1.0, "sad"))
    whole = path.read_bytes()
    real_write = os.write
    calls = []

    def full_disk(fd, data):
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[:7])  # part of the row fits
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(LogWriteError, match=f"cannot write .* {path}: No space left on device"):
        sink.write(one_hot(1.0, 2.0, "angry"))
    monkeypatch.setattr(os, "write", real_write)
    assert path.read_bytes() == whole and len(calls) == 2
    sink.write(one_hot(2.0, 3.0, "happy"))  # space again: rows continue where they should
    assert path.read_bytes().startswith(whole) and path.read_bytes().count(b"\n") == 1 + (
        sink_type is CsvSink
    ) + 1
    sink.close()


def test_lines_stop_quietly_when_the_reader_goes(monkeypatch):
    class GoneReader(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise io.UnsupportedOperation

    sink = LineSink(0.4, GoneReader())
    sink.write(one_hot(0.0, 1.0, "sad"))  # no exception
    assert sink.reader_gone
    sink.write(one_hot(1.0, 2.0, "sad"))

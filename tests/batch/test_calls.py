"""calls.csv written from the run state: every column as documented (issue 21.3), the union of
every model's labels (22.5), spreadsheet-safe cells (22.18), one line on a full disk (22.20)."""

import csv
import errno
import os

import pytest

from streamer.batch.calls import write_calls
from streamer.batch.job import CallResult, FileState
from streamer.batch.state import RunState
from streamer.batch.summary import ChannelSummary, Moment
from streamer.errors import LogWriteError


def summary(channel: int, shares: dict[str, float]) -> ChannelSummary:
    return ChannelSummary(
        channel=channel,
        utterances=3,
        speech_s=6.0,
        shares=shares,
        valence=-0.25,
        arousal=0.5,
        peak_arousal=Moment(1.0, 2.5, "angry", 0.8),
        dominant_negative="angry",
        dominant_negative_share=shares.get("angry"),
        dominant_negative_peak=Moment(4.0, 5.0, "angry", 0.9),
    )


def ok(path: str, fingerprint: str, *summaries: ChannelSummary) -> CallResult:
    return CallResult(
        path=path,
        status="ok",
        duration_s=30.0,
        uncertain_below=0.45,
        summaries=summaries,
        outputs=(os.path.basename(path) + ".csv", os.path.basename(path) + ".report.html"),
        state=FileState(1, 2),
        fingerprint=fingerprint,
        channels="each" if len(summaries) > 1 else "mix",
    )


@pytest.fixture
def state(tmp_path):
    state = RunState(tmp_path)
    state.keep_settings("m1", {"labels": ["neutral", "angry", "sad"]})
    state.keep_settings("m2", {"labels": ["calm", "angry"]})
    yield state
    state.close()


def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_columns_are_the_union_of_every_models_labels_and_shares_sum_to_one(state, tmp_path):
    state.record(ok("/in/a.wav", "m1", summary(0, {"angry": 0.75, "uncertain": 0.25})))
    state.record(ok("/in/b.wav", "m2", summary(0, {"calm": 0.5, "uncertain": 0.5})))
    write_calls(state, tmp_path, ("neutral", "angry", "sad"))
    rows = read(tmp_path / "calls.csv")
    shares = [k for k in rows[0] if k.startswith("share_")]
    assert shares == ["share_neutral", "share_angry", "share_sad", "share_calm", "share_uncertain"]
    a, b = rows
    assert (a["share_calm"], a["share_neutral"], a["share_angry"]) == ("", "0.0", "0.75")
    assert (b["share_sad"], b["share_angry"], b["share_calm"]) == ("", "0.0", "0.5")
    for row in rows:
        assert sum(float(row[k]) for k in shares if row[k]) == pytest.approx(1.0)
    assert a["peak_arousal_label"] == "angry" and a["dominant_negative_confidence"] == "0.9"
    assert a["report"] == "a.wav.report.html" and a["uncertain_below"] == "0.45"


def test_channels_apart_add_a_row_each(state, tmp_path):
    state.record(
        ok(
            "/in/call.wav",
            "m1",
            summary(0, {"angry": 1.0}),
            summary(1, {"angry": 1.0}),
            summary(2, {}),
        )
    )
    write_calls(state, tmp_path, ("neutral", "angry", "sad"))
    rows = read(tmp_path / "calls.csv")
    assert [r["channel"] for r in rows] == ["", "1", "2"]
    assert all(r["channels"] == "each" and r["status"] == "ok" for r in rows)


def test_text_a_spreadsheet_would_run_is_neutralised(state, tmp_path):
    state.record(ok("=cmd|calc!A1.wav", "m1", summary(0, {"angry": 1.0})))
    state.record(
        CallResult(path="/in/@x.wav", status="error", cause="input", error="-1+1 is not audio")
    )
    write_calls(state, tmp_path, ("angry",))
    text = (tmp_path / "calls.csv").read_text()
    assert "'=cmd|calc!A1.wav" in text and "'=cmd|calc!A1.wav.csv" in text
    assert "'-1+1 is not audio" in text
    assert ",-0.25," in text  # numbers stay numbers
    for row in csv.reader(text.splitlines()):
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)


@pytest.mark.parametrize("fail_on", ["write", "replace"])
def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(
    state, tmp_path, monkeypatch, fail_on
):
    state.record(ok("/in/a.wav", "m1", summary(0, {"angry": 1.0})))
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    if fail_on == "replace":

        def replace(*args) -> None:
            raise full

        monkeypatch.setattr("streamer.batch.calls.os.replace", replace)
    else:

        class Writer:
            def __init__(self, handle) -> None:
                self.rows = 0

            def writerow(self, row) -> None:
                self.rows += 1
                if self.rows > 1:
                    raise full

        monkeypatch.setattr("streamer.batch.calls.csv.writer", Writer)
    with pytest.raises(LogWriteError) as caught:
        write_calls(state, tmp_path, ("angry",))
    message = str(caught.value)
    assert "\n" not in message and "No space left on device" in message
    assert message.startswith(f"cannot write {tmp_path / 'calls.csv'}")
    assert [p.name for p in tmp_path.iterdir()] == ["calls.sqlite"]

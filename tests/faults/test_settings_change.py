"""22.5, 21.13 and 22.17: a rerun with another model, other channels or other [ui] settings.

Before: a model with other labels rewrote calls.csv with only its own rows; a rerun with another
--channels silently replaced the earlier timelines; a --config that changed [ui] did not redraw
--report html. Now calls.csv keeps every row with the union of the labels as columns, a rerun
that would replace timelines made with other settings is refused (one line saying what differs)
unless --replace, and every setting that shapes an output is in its fingerprint."""

from __future__ import annotations

import shutil

from onnx_factory import write_linear_model

from tests.faults.commands import archive, calls_by_name, rows_of, ser_batch


def test_a_model_with_other_labels_keeps_the_earlier_rows(demo_call, tmp_path):
    archive(demo_call, tmp_path / "first", ["a.wav"])
    archive(demo_call, tmp_path / "second", ["b.wav"])
    other = write_linear_model(tmp_path / "other.onnx", labels=("calm", "tense", "bored"))
    out = tmp_path / "out"
    assert ser_batch(tmp_path / "first", "--out", out, "--workers", 1).returncode == 0
    result = ser_batch(tmp_path / "second", "--out", out, "--model", other, "--workers", 1)
    assert result.returncode == 0, result.stderr
    rows = calls_by_name(out)
    assert set(rows) == {"a.wav", "b.wav"}
    columns = [c for c in rows["a.wav"] if c.startswith("share_")]
    assert {"share_angry", "share_calm", "share_tense", "share_bored"} <= set(columns)
    assert columns[-1] == "share_uncertain"
    assert rows["a.wav"]["share_tense"] == "" and rows["b.wav"]["share_angry"] == ""
    for row in rows.values():
        assert abs(sum(float(row[c]) for c in columns if row[c]) - 1.0) < 1e-3


def test_the_same_recordings_with_another_model_are_refused_without_replace(demo_call, tmp_path):
    archive(demo_call, tmp_path / "calls", ["a.wav"])
    other = write_linear_model(tmp_path / "other.onnx", labels=("calm", "tense", "bored"))
    out = tmp_path / "out"
    assert ser_batch(tmp_path / "calls", "--out", out, "--workers", 1).returncode == 0
    before = (out / "a.wav.csv").read_bytes()
    refused = ser_batch(tmp_path / "calls", "--out", out, "--model", other, "--workers", 1)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "made with other settings (model: " in lines[0]
    assert "give --replace" in lines[0]
    assert (out / "a.wav.csv").read_bytes() == before
    replaced = ser_batch(
        tmp_path / "calls", "--out", out, "--model", other, "--workers", 1, "--replace"
    )
    assert replaced.returncode == 0, replaced.stderr
    assert "p_tense" in (out / "a.wav.csv").read_text().splitlines()[0]
    assert "share_angry" not in rows_of(out / "calls.csv")[0]  # no row of that model is left


def test_other_channels_are_refused_and_both_sides_get_their_rows(demo_call, tmp_path):
    from streamer.live.demo import make_sample

    calls = tmp_path / "calls"
    make_sample(calls / "stereo.wav", stereo=True)
    out = tmp_path / "out"
    assert ser_batch(calls, "--out", out, "--workers", 1).returncode == 0
    refused = ser_batch(calls, "--out", out, "--workers", 1, "--channels", "each")
    assert refused.returncode == 2
    assert "(channels: mix -> each)" in refused.stderr
    assert "channel" not in (out / "stereo.wav.csv").read_text().splitlines()[0]
    each = ser_batch(calls, "--out", out, "--workers", 1, "--channels", "each", "--replace")
    assert each.returncode == 0, each.stderr
    rows = rows_of(out / "calls.csv")
    assert [(r["channel"], r["channels"]) for r in rows] == [
        ("", "each"),
        ("1", "each"),
        ("2", "each"),
    ]
    for row in rows:
        shares = [float(v) for k, v in row.items() if k.startswith("share_") and v]
        assert abs(sum(shares) - 1.0) < 1e-3


def test_a_change_of_ui_settings_redraws_the_reports(demo_call, tmp_path):
    archive(demo_call, tmp_path / "calls", ["a.wav"])
    out = tmp_path / "out"
    first = ser_batch(tmp_path / "calls", "--out", out, "--workers", 1, "--report", "html")
    assert first.returncode == 0, first.stderr
    page = (out / "a.wav.report.html").read_bytes()
    config = tmp_path / "ui.toml"
    config.write_text("[ui]\nuncertain_from_model = false\nuncertain_below = 0.05\n")
    second = ser_batch(
        tmp_path / "calls", "--out", out, "--workers", 1, "--report", "html", "--config", config
    )
    assert second.returncode == 0, second.stderr
    assert "redoing 1 recordings: the uncertain threshold or the report's [ui]" in second.stderr
    assert (out / "a.wav.report.html").read_bytes() != page
    row = calls_by_name(out)["a.wav"]
    assert row["uncertain_below"] == "0.05" and row["share_uncertain"] == "0.0"
    shutil.copyfile(config, tmp_path / "same.toml")  # the same settings again: nothing to do
    third = ser_batch(
        tmp_path / "calls", "--out", out, "--report", "html", "--config", tmp_path / "same.toml"
    )
    assert "1 of 1 recordings done before" in third.stderr

"""ser-report: reading ser-live's timeline back, the summary, and the PNG/HTML files it writes."""

import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from predictions import LABELS, one_hot, prediction

from streamer.report.audio import read_audio
from streamer.report.cli import main
from streamer.report.summary import sides, summarise
from streamer.report.timeline import ReportError, channel_name, read_timeline
from streamer.sinks.csv_log import CsvSink
from streamer.sinks.jsonl_log import JsonlSink

CALL = [
    one_hot(1.0, 4.0, "neutral"),
    one_hot(5.0, 7.0, "angry", p=0.9),
    prediction(8.0, 9.0, (0.3, 0.35, 0.2, 0.15)),  # happy, but under the 40 % gate
    one_hot(10.0, 14.0, "happy"),
]


def write_csv(path, predictions=CALL):
    sink = CsvSink(path, LABELS, uncertain_below=0.4)
    for p in predictions:
        sink.write(p)
    sink.close()
    return path


@pytest.fixture
def call_csv(tmp_path):
    return write_csv(tmp_path / "call.csv")


@pytest.fixture
def call_wav(tmp_path, rng):
    t = np.arange(16 * 16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.001 * rng.standard_normal(len(t))).astype(
        np.float32
    )
    path = tmp_path / "call.wav"
    sf.write(path, audio, 16000)
    return path


def test_reads_back_what_ser_live_wrote(call_csv):
    timeline = read_timeline(call_csv)
    assert timeline.labels == LABELS
    assert [(p.start_s, p.end_s, p.label) for p in timeline.predictions] == [
        (p.start_s, p.end_s, p.label) for p in CALL
    ]
    assert timeline.predictions[2].probabilities == pytest.approx(CALL[2].probabilities)


def test_reads_jsonl_and_ignores_columns_added_later(tmp_path):
    sink = JsonlSink(tmp_path / "call.jsonl", LABELS, uncertain_below=0.4)
    for p in CALL:
        sink.write(p)
    sink.close()
    assert len(read_timeline(tmp_path / "call.jsonl").predictions) == len(CALL)
    csv_path = tmp_path / "wider.csv"
    csv_path.write_text(
        "start_s,end_s,speaker,p_calm,p_sad,latency_ms,p_note_free\n"
        "0.5,1.5,A,0.7,0.3,12,\n".replace("p_note_free", "note")
    )
    timeline = read_timeline(csv_path)
    assert timeline.labels == ("calm", "sad")
    assert timeline.predictions[0].label == "calm"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("when,what\n1,2\n", "no start_s column"),
        ("start_s,end_s,label\n1,2,sad\n", "needs p_<label> probability columns"),
        ("start_s,end_s,p_a,p_b\n1,x,0.5,0.5\n", "line 2: end_s is not a number ('x')"),
        ("start_s,end_s,p_a,p_b\n3,2,0.5,0.5\n", "line 2: times must satisfy"),
        ("start_s,end_s,p_a,p_b\n1,2,0.5\n", "line 2: 3 fields, the header has 4"),
        ("start_s,end_s,p_a,p_b\n1,2,1.5,0.5\n", "probabilities must lie in 0..1"),
    ],
)
def test_malformed_timelines_are_one_line_errors_and_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ReportError, match=re.escape(message)):
        read_timeline(path)
    assert main([str(path), "-o", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ser-report: error:") and message in err[0]
    assert not (tmp_path / "r.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/call.csv", "-o", "r.png"], "file not found"),
        (["CSV", "-o", "r.txt"], "unknown report type"),
        (["CSV", "--audio", "/nonexistent/call.wav", "-o", "r.png"], "audio file not found"),
        (["CSV", "--audio", "CSV", "-o", "r.png"], "not a readable audio file"),
    ],
)
def test_bad_inputs_are_one_line_errors_and_exit_2(call_csv, tmp_path, capsys, args, message):
    args = [
        str(call_csv) if a == "CSV" else str(tmp_path / a) if a.startswith("r.") else a
        for a in args
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_the_output_is_required(call_csv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([str(call_csv)])
    assert exit_.value.code == 2
    assert "required: -o/--output" in capsys.readouterr().err


def test_summary_counts_talk_time_per_shown_emotion():
    summary = summarise(CALL, duration_s=16.0, uncertain_below=0.4)
    # Talk time: neutral 3 s, angry 2 s, uncertain 1 s, happy 4 s -> 10 s.
    assert dict(summary.shares) == pytest.approx(
        {"happy": 0.4, "neutral": 0.3, "angry": 0.2, "uncertain": 0.1}
    )
    assert summary.shares[0][0] == "happy"
    assert summary.speech_s == pytest.approx(10.0) and summary.uncertain == 1
    text = "\n".join(summary.lines())
    assert "Mostly happy (40% of talk time), then neutral 30%, angry 20%, uncertain 10%." in text
    assert "1 of 4 under 40% shown as uncertain" in text
    assert "Clearest moment: angry 90 % at 0:05.0–0:07.0" in text
    # First third of talk time: neutral (3 s) and angry (2 s), duration-weighted; last: happy.
    assert (
        "Mood: started tense (valence -0.23, arousal +0.31), "
        "ended excited (valence +0.65, arousal +0.32)." in text
    )


def test_audio_is_reduced_to_an_envelope_and_a_spectrogram(call_wav):
    view = read_audio(call_wav)
    assert view.duration_s == pytest.approx(16.0)
    assert view.envelope_max.max() == pytest.approx(0.3, abs=0.05)
    assert view.envelope_min.min() == pytest.approx(-0.3, abs=0.05)
    loudest = view.spectrogram_hz[np.argmax(view.spectrogram_db.mean(axis=1))]
    assert loudest == pytest.approx(440, abs=16000 / 512)
    assert view.spectrogram_hz[-1] <= 8000


def test_png_report_of_a_call(call_csv, call_wav, tmp_path, capsys):
    out = tmp_path / "report.png"
    assert main([str(call_csv), "--audio", str(call_wav), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1500 and height > 900
    assert "wrote" in capsys.readouterr().out


def test_html_report_is_one_self_contained_file(call_csv, call_wav, tmp_path):
    out = tmp_path / "report.html"
    assert main([str(call_csv), "--audio", str(call_wav), "-o", str(out), "--title", "Call 7"]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<title>Call 7</title>" in page
    assert 'src="data:image/png;base64,' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page
    assert "Mostly happy (40% of talk time)" in page
    assert page.count("<tr>") == 1 + 4 + 1 + 4  # share table and utterance table, with headers
    # each utterance in the wording of the live view and the stdout lines (issue 21.4)
    words = re.sub("<[^>]+>", "", page)
    assert "uncertain (leaning happy 35 %)" in words and "angry 90 %" in words


@pytest.mark.parametrize("suffix", [".png", ".html"])
def test_empty_timeline_reports_no_speech(tmp_path, call_wav, suffix, capsys):
    empty = write_csv(tmp_path / "empty.csv", [])
    out = tmp_path / f"report{suffix}"
    assert main([str(empty), "--audio", str(call_wav), "-o", str(out)]) == 0
    assert out.stat().st_size > 1000
    if suffix == ".html":
        assert "No speech was detected in this 0:16 recording." in out.read_text()
    assert "0 utterances" in capsys.readouterr().out


def test_missing_matplotlib_says_how_to_install_it(call_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert main([str(call_csv), "-o", str(tmp_path / "r.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'ser-live[plots]'" in err[0]


def test_the_live_path_never_imports_matplotlib():
    code = (
        "import sys, streamer.live.cli, streamer.live.view, streamer.emotions; "
        "import streamer.report.cli; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_a_csv_resaved_with_a_byte_order_mark_reads_as_any_other(call_csv, tmp_path, capsys):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + call_csv.read_bytes())
    assert main([str(bom), "-o", str(tmp_path / "r.png")]) == 0
    assert f"({len(CALL)} utterances" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_torn_last_line_is_left_out_with_a_warning(tmp_path, capsys, suffix):
    """A run killed mid-row (or a disk that filled up under another writer) leaves half a line."""
    path = tmp_path / f"call{suffix}"
    sink = (CsvSink if suffix == ".csv" else JsonlSink)(path, LABELS, uncertain_below=0.4)
    for p in CALL:
        sink.write(p)
    sink.close()
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1 + 20])  # 20 bytes of the last row
    out = tmp_path / "r.png"
    assert main([str(path), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert f"({len(CALL) - 1} utterances" in captured.out
    warning = captured.err.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("ser-report: warning: ")
    assert f"line {len(CALL) + (suffix == '.csv')}" in warning[0] and "incomplete" in warning[0]
    # Only the last line: the same damage in the middle is still an error.
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:-2], lines[-1] + b"\n", lines[-2]]))
    assert main([str(path), "-o", str(out)]) == 2


@pytest.mark.parametrize(
    "label", ["<img src=x onerror=alert(1)>", "a\x1b[31mred", "x" * 41, "émotion", "1st"]
)
def test_label_columns_must_be_plain_names(tmp_path, capsys, label):
    path = tmp_path / "odd.csv"
    path.write_text(f"start_s,end_s,p_calm,p_{label}\n0.5,1.5,0.7,0.3\n", encoding="utf-8")
    assert main([str(path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not name a plain label" in err[0]
    assert "\x1b" not in err[0]  # shown escaped, never interpreted by the terminal
    assert not (tmp_path / "r.html").exists()


def test_html_escapes_everything_it_did_not_write(call_csv, tmp_path):
    odd = tmp_path / "a<b>&'\".csv"
    odd.write_bytes(call_csv.read_bytes())
    out = tmp_path / "report.html"
    title = "<script>alert(1)</script> & co"
    assert main([str(odd), "-o", str(out), "--title", title]) == 0
    page = out.read_text()
    assert "<script" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page
    assert "a&lt;b&gt;&amp;&#x27;&quot;.csv" in page


# A two-sided call as `ser-live --channels each` logs it: the agent on channel 1 (left), the
# customer on channel 2 (right), turns alternating.
SIDES_CALL = [
    replace(one_hot(1.0, 4.0, "neutral"), channel=1),
    replace(one_hot(5.0, 9.0, "angry", p=0.9), channel=2),
    replace(one_hot(10.0, 12.0, "neutral"), channel=1),
    replace(one_hot(13.0, 14.0, "sad"), channel=2),
    replace(one_hot(15.0, 16.0, "happy"), channel=1),
    replace(one_hot(17.0, 20.0, "happy"), channel=2),
]
# Agent: neutral 3 + 2 s, happy 1 s. Customer: angry 4 s, sad 1 s, happy 3 s.
AGENT_SHARES = {"neutral": 5 / 6, "happy": 1 / 6}
CUSTOMER_SHARES = {"angry": 0.5, "happy": 0.375, "sad": 0.125}


def write_sides(path):
    """The two-sided call as CSV, or as JSON lines with provisional results before each final."""
    sink = (CsvSink if path.suffix == ".csv" else JsonlSink)(
        path, LABELS, channel=True, uncertain_below=0.4
    )
    for p in SIDES_CALL:
        # Partial results while the utterance is spoken: JSONL only, and never in the report
        # (their label, "sad", would change the shares).
        for end in (p.start_s + 0.5, p.start_s + 0.9):
            sink.write(replace(one_hot(p.start_s, end, "sad"), channel=p.channel, final=False))
        sink.write(p)
    sink.close()
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_call_logged_channel_by_channel_is_read_side_by_side(tmp_path, suffix):
    path = write_sides(tmp_path / f"call{suffix}")
    text = path.read_text()
    assert ('"final": false' in text) == (suffix == ".jsonl")
    assert "valence" in text.splitlines()[0 if suffix == ".csv" else 1]  # the new columns, read
    timeline = read_timeline(path)
    assert timeline.channels == (1, 2)
    assert [(p.start_s, p.end_s, p.channel) for p in timeline.predictions] == [
        (p.start_s, p.end_s, p.channel) for p in SIDES_CALL
    ]
    sides_ = sides(timeline, 20.0, 0.4)
    assert [side.name for side in sides_] == ["left", "right"]
    assert dict(sides_[0].summary.shares) == pytest.approx(AGENT_SHARES)
    assert dict(sides_[1].summary.shares) == pytest.approx(CUSTOMER_SHARES)
    assert sides_[1].summary.speech_s == pytest.approx(8.0)
    # Three channels (or a stereo pair of a wider file) are named by number.
    assert channel_name(2, (1, 2, 3)) == "channel 2"
    assert channel_name(1, (1, 2), audio_channels=4) == "channel 1"


def test_empty_valence_and_arousal_columns_are_fine(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "channel,start_s,end_s,wall_time,label,confidence,p_calm,p_buzz,latency_ms,valence,arousal\n"
        "1,0.5,1.5,,calm,0.7,0.7,0.3,12,,\n2,2.0,3.0,,buzz,0.6,0.4,0.6,12,,\n"
    )
    timeline = read_timeline(path)
    assert [p.channel for p in timeline.predictions] == [1, 2]
    assert main([str(path), "-o", str(tmp_path / "r.png")]) == 0


@pytest.mark.parametrize("value", ["0", "1.5", "left"])
def test_a_channel_must_be_a_whole_number_from_1(tmp_path, value):
    path = tmp_path / "bad.csv"
    path.write_text(f"channel,start_s,end_s,p_a,p_b\n{value},1,2,0.5,0.5\n")
    with pytest.raises(ReportError, match="line 2: channel"):
        read_timeline(path)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_reports_of_a_two_sided_call_name_each_side(tmp_path, capsys, suffix):
    path = write_sides(tmp_path / f"call{suffix}")
    stereo = tmp_path / "call.wav"
    sf.write(stereo, np.zeros((21 * 8000, 2), np.float32), 8000)
    png = tmp_path / "r.png"
    assert main([str(path), "--audio", str(stereo), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(6 utterances on left and right, 21.0 s)" in capsys.readouterr().out
    html = tmp_path / "r.html"
    assert main([str(path), "-o", str(html)]) == 0
    page = html.read_text()
    assert "Mostly neutral (36% of talk time)" in page  # the whole call: 5 s of 14 s
    assert "Left: 3 utterances, 6.0 s of speech; mostly neutral (83%), then happy 17%" in page
    right = "Right: 3 utterances, 8.0 s of speech; mostly angry (50%), then happy 38%, sad 12%"
    assert right in page
    assert "<th>left</th><th>right</th>" in page
    assert page.count("<td>left</td>") == 3 and page.count("<td>right</td>") == 3


def test_the_figure_has_a_strip_per_side(tmp_path):
    from streamer.report.figure import build_figure

    timeline = read_timeline(write_sides(tmp_path / "call.jsonl"))
    summary = summarise(timeline.predictions, 20.0, 0.4)
    figure = build_figure(timeline, summary, None, 0.4, 0.3, "t", sides(timeline, 20.0, 0.4))
    names = [ax.get_ylabel() for ax in figure.axes]
    assert names[:2] == ["left", "right"] and "emotion" not in names
    text = "\n".join(t.get_text() for t in figure.texts)
    assert "Left: 3 utterances" in text and "Right: 3 utterances" in text
    # One stream: as before, one strip named "emotion", no per-side lines.
    plain = read_timeline(write_csv(tmp_path / "plain.csv"))
    one = build_figure(plain, summarise(plain.predictions, 16.0, 0.4), None, 0.4, 0.3, "t")
    assert [ax.get_ylabel() for ax in one.axes][0] == "emotion"


def test_a_torn_last_line_of_a_two_sided_call(tmp_path, capsys):
    path = write_sides(tmp_path / "call.jsonl")
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 1 + 20])
    assert main([str(path), "-o", str(tmp_path / "r.png")]) == 0
    captured = capsys.readouterr()
    assert "(5 utterances on left and right" in captured.out
    assert "incomplete" in captured.err


def test_the_uncertain_threshold_is_the_one_ser_live_shows(tmp_path):
    """By default the model's own threshold (ser-live's default view), not ui.uncertain_below."""
    from streamer.model.classifier import load
    from streamer.report.cli import build_parser, request_from
    from streamer.report.make import shown_threshold
    from streamer.settings import load_settings

    shipped = load(load_settings().model.path)[0].info.uncertain_below
    assert shipped is not None and shipped != load_settings().ui.uncertain_below
    csv_path = write_csv(tmp_path / "call.csv")

    def threshold(*flags):
        args = build_parser().parse_args([str(csv_path), "-o", "x.png", *map(str, flags)])
        return shown_threshold(request_from(args)).uncertain_below

    assert threshold() == shipped
    assert threshold("--uncertain-below", 0.3) == 0.3
    config = tmp_path / "ui.toml"
    config.write_text("[ui]\nuncertain_from_model = false\n")
    assert threshold("--config", config) == load_settings().ui.uncertain_below
    with pytest.raises(Exception, match="model not found"):
        threshold("--model", tmp_path / "missing.onnx")

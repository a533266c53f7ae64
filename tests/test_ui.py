"""The live view, rendered into a recording console at 80 and 120 columns."""

import io
import time

import pytest
from predictions import LABELS, one_hot, prediction, snapshot
from rich.console import Console

from streamer.settings import SettingsError, load_settings
from streamer.sources import SourceStats
from streamer.ui import ViewInfo, render, save_screenshot, view_factory


def info(col_s=0.5, uncertain_below=0.4, rows=10):
    return ViewInfo("file call.wav", LABELS, rows, col_s, uncertain_below, 0.3)


def screen(frame, width, height=30):
    console = Console(
        record=True, width=width, height=height, file=io.StringIO(), force_terminal=True
    )
    console.print(frame)
    return console.export_text()


CALL = [
    one_hot(1.0, 3.0, "neutral"),
    one_hot(4.0, 7.5, "happy"),
    one_hot(9.0, 12.0, "angry", p=0.9),
    prediction(13.0, 15.0, (0.20, 0.25, 0.21, 0.34)),  # arg-max angry, below the 40 % gate
]


@pytest.mark.parametrize("width", [80, 120])
def test_view_shows_every_part_and_fits_the_width(width):
    text = screen(
        render(snapshot(CALL, in_speech=True, speech_s=1.2), SourceStats(), info(), 61), width
    )
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    status = ["● SPEECH", "1.2 s", "level", "dBFS", "elapsed 1:01", "audio 0:16.0"]
    counters = ["utterances 4", "latency 55 ms · p95", "overruns 0"]
    panels = ["timeline", "heard", "trend", "mood", "valence → arousal"]
    for part in status + counters + panels:
        assert part in text, part
    for label in (*LABELS, "uncertain", "listening"):  # the colour key
        assert label in text
    # The latest utterance is below the gate: shown as uncertain, with what the model leaned to.
    assert "UNCERTAIN" in text and "angry? 34%" in text
    assert "34% ◀" in text  # its bars still show every probability, the arg-max marked


def test_silence_and_a_confident_label():
    frame = render(snapshot(CALL[:3]), SourceStats(overruns=2, dropped_s=0.3), info(), 20)
    text = screen(frame, 80)
    assert "○ silence" in text and "SPEECH" not in text
    assert " ANGRY " in text and "90% sure" in text
    assert "overruns 2 (0.3 s lost)" in text
    assert "so far" in text and "happy" in text


def test_waiting_for_speech_before_the_first_utterance():
    text = screen(render(snapshot([], position_s=2.0), SourceStats(), info(), 2.0), 80)
    assert "waiting for speech" in text
    assert "latency -" in text


def test_timeline_strip_places_bands_in_time():
    # One column per second: an angry utterance from 2 s to 10 s fills columns 2..9 and, 8 wide,
    # has room for its name; before it, silence dots; the in-progress speech is ░.
    angry = one_hot(2.0, 10.0, "angry")
    frame = render(
        snapshot([angry], position_s=14.0, in_speech=True, speech_s=2.0),
        SourceStats(),
        info(col_s=1.0),
        14.0,
    )
    heard = next(line for line in screen(frame, 80).splitlines() if "heard" in line)
    strip = heard.split("heard ", 1)[1]
    assert strip[:2] == "··"
    assert strip[3:8] == "angry"
    assert strip[12:14] == "░░"
    assert strip[14:].strip(" │") == ""  # nothing drawn past "now"


def test_wider_terminals_show_more_history():
    long_call = [one_hot(10.0 * k, 10.0 * k + 4, LABELS[k % 4]) for k in range(12)]
    at_80 = screen(render(snapshot(long_call), SourceStats(), info(), 120), 80)
    at_120 = screen(render(snapshot(long_call), SourceStats(), info(), 120), 120)
    axis = [line for line in at_80.splitlines() if "╵" in line][0]
    assert "╵1:00" not in axis  # 80 columns show the last 37 s, 120 columns the last 57 s
    assert "╵1:00" in [line for line in at_120.splitlines() if "╵" in line][0]
    assert "recent utterances" in at_120  # beside the bars, when there is width


def test_recent_list_uses_spare_height():
    short = screen(render(snapshot(CALL), SourceStats(), info(), 20), 80, height=24)
    tall = screen(render(snapshot(CALL), SourceStats(), info(), 20), 80, height=60)
    assert len(short.splitlines()) < 24  # fits a classic terminal, a line kept for the cursor
    assert "recent utterances" not in short
    assert "recent utterances" in tall
    assert "0:13.0" in tall and "0:01.0" in tall


def test_view_factory_counts_elapsed_time_from_its_creation():
    now = [100.0]
    view = view_factory(lambda: snapshot(CALL), SourceStats(), info(), clock_s=lambda: now[0])
    now[0] = 100.0 + 75
    assert "elapsed 1:15" in screen(view(), 80)


def test_rendering_a_full_history_is_quick():
    history = [one_hot(3.0 * k, 3.0 * k + 2, LABELS[k % 4]) for k in range(200)]
    frame = render(snapshot(history), SourceStats(), info(), 600)
    started = time.perf_counter()
    screen(frame, 120)
    assert time.perf_counter() - started < 0.5  # the view redraws 8 times a second


def test_screenshot_is_an_svg_of_the_frame(tmp_path):
    path = tmp_path / "live.svg"
    save_screenshot(render(snapshot(CALL), SourceStats(), info(), 20), path, width=100)
    svg = path.read_text()
    assert svg.startswith("<svg") and "timeline" in svg


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("uncertain_below", 1.5, "ui.uncertain_below must be 0..1"),
        ("trend_alpha", 0.0, "ui.trend_alpha must be in (0, 1]"),
        ("timeline_col_s", 0.0, "ui.timeline_col_s must be 0.05..60"),
    ],
)
def test_ui_settings_are_range_checked(key, value, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(overrides={"ui": {key: value}})


def test_portaudio_overflow_flags_are_shown_too():
    stats = SourceStats(overruns=0, dropped_s=0.0, device_overflows=3)
    text = screen(render(snapshot(CALL[:3]), stats, info(), 20), 120)
    assert "overruns 0 · device 3" in text


def test_status_says_when_the_stream_is_adapting_and_counts_non_speech():
    import dataclasses

    base = snapshot(CALL[:2])
    plain = screen(render(base, SourceStats(), info(), 20), 100)
    assert "adapting" not in plain and "non-speech" not in plain
    marked = dataclasses.replace(base, adapting=True, non_speech=3)
    text = screen(render(marked, SourceStats(), info(), 20), 100)
    assert "adapting" in text and "3 non-speech" in text


def test_a_model_with_its_own_labels_is_shown_plainly_and_kept_off_the_mood_plane():
    """Labels without a circumplex point (a manifest's own label set) get spare colours in the
    key and bars; utterances that carry only such labels leave the mood plane empty and say so,
    instead of waiting for speech forever."""
    own = ("frustrated", "satisfied", "neutral")
    call = [
        prediction(1.0, 3.0, (0.8, 0.1, 0.1), labels=own),
        prediction(4.0, 6.0, (0.1, 0.1, 0.8), labels=own),
    ]
    view = ViewInfo("file call.wav", own, 10, 0.5, 0.4, 0.3)
    text = screen(render(snapshot(call), SourceStats(), view, 7), 120)
    for label in own:
        assert label in text
    assert " NEUTRAL " in text and "waiting for speech" not in text
    assert "even" in text  # neutral has a point: the origin

    unplaced = ("frustrated", "satisfied")
    call = [prediction(1.0, 3.0, (0.9, 0.1), labels=unplaced)]
    view = ViewInfo("file call.wav", unplaced, 10, 0.5, 0.4, 0.3)
    text = screen(render(snapshot(call), SourceStats(), view, 4), 120)
    assert " FRUSTRATED " in text and "satisfied" in text
    assert "no mood point for these labels" in text
    assert "waiting for speech" not in text

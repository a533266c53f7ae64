"""The live view, rendered into a recording console at 80 and 120 columns."""

import dataclasses
import io
import time

import pytest
from predictions import LABELS, one_hot, prediction, screen, snapshot
from rich.console import Console

from streamer.emotions import colour_of
from streamer.live.view import ViewInfo, render, save_screenshot, view_factory
from streamer.settings import ConfigError, load_settings
from streamer.sources import SourceStats


def info(col_s=0.5, uncertain_below=0.4, rows=10):
    return ViewInfo("file call.wav", LABELS, rows, col_s, uncertain_below, 0.3)


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
    assert "UNCERTAIN  (leaning angry 34 %)" in text
    assert "34% ◀" in text  # its bars still show every probability, the arg-max marked


def test_silence_and_a_confident_label():
    frame = render(snapshot(CALL[:3]), SourceStats(overruns=2, dropped_s=0.3), info(), 20)
    text = screen(frame, 80)
    assert "○ silence" in text and "SPEECH" not in text
    assert " ANGRY  90 %" in text
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
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(overrides={"ui": {key: value}})


def test_portaudio_overflow_flags_are_shown_too():
    stats = SourceStats(overruns=0, dropped_s=0.0, device_overflows=3)
    text = screen(render(snapshot(CALL[:3]), stats, info(), 20), 120)
    assert "overruns 0 · device 3" in text


def test_status_says_when_the_stream_is_adapting_and_counts_non_speech():
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


# --- issue 13: provisional results, one timeline per channel, small terminals -------------------

def listening_colours(frame, width, height=30):
    """The colours the ░ cells of the frame are drawn in (as #rrggbb)."""
    console = Console(width=width, height=height, file=io.StringIO())
    lines = console.render_lines(frame, new_lines=False)
    heard = [line for line in lines if "heard" in "".join(segment.text for segment in line)]
    return {
        segment.style.color.get_truecolor().hex if segment.style and segment.style.color else None
        for line in heard
        for segment in line
        if "░" in segment.text
    }


def partial(start_s, end_s, probabilities):
    return dataclasses.replace(prediction(start_s, end_s, probabilities), final=False)


def speaking(predictions, provisional, position_s, speech_s):
    return dataclasses.replace(
        snapshot(predictions, position_s=position_s, in_speech=True, speech_s=speech_s),
        partial=provisional,
    )


def test_a_provisional_result_colours_the_listening_cells_and_is_marked_in_now():
    leaning_angry = partial(13.0, 15.0, (0.15, 0.15, 0.15, 0.55))
    snap = speaking(CALL[:3], leaning_angry, 15.5, 2.5)
    frame = render(snap, SourceStats(), info(col_s=1.0), 16)
    text = screen(frame, 100)
    assert "now listening… ANGRY? 55 % (provisional)" in text
    assert "55% ◀" in text  # the bars show the provisional probabilities
    assert "#4 from 0:13.0" in text  # the utterance being spoken is the fourth
    heard = next(line for line in text.splitlines() if "heard" in line)
    assert "░░" in heard and "█" not in heard.split("angry")[-1]  # ░, not a solid band
    # the ░ cells are drawn in angry's colour (they were white, as they still are without one)
    assert listening_colours(frame, 100) == {colour_of("angry")}
    plain = speaking(CALL[:3], None, 15.5, 2.5)
    assert listening_colours(render(plain, SourceStats(), info(col_s=1.0), 16), 100) == {"#c0c0c0"}
    # at 80 columns "now" widens for its title; at 60 there is no room: the mark moves under it
    assert "now listening… ANGRY? 55 % (provisional)" in screen(frame, 80)
    narrow = screen(frame, 60)
    assert "now ANGRY? 55 % " in narrow and "provisional · #4" in narrow
    assert "(provisional)" not in narrow


def test_a_provisional_result_goes_through_the_uncertain_gate():
    unsure = partial(13.0, 15.0, (0.20, 0.25, 0.21, 0.34))
    text = screen(render(speaking(CALL[:3], unsure, 15.5, 2.5), SourceStats(), info(), 16), 100)
    assert "listening… UNCERTAIN? (leaning angry 34 %)" in text


def test_the_final_result_replaces_the_provisional_one():
    snap = snapshot([*CALL[:3], one_hot(13.0, 15.0, "happy", p=0.8)], position_s=16.0)
    text = screen(render(snap, SourceStats(), info(), 16), 100)
    assert " HAPPY  80 %" in text
    assert "provisional" not in text and "listening…" not in text
    # a provisional row that reached `recent` is not drawn as a final one
    stray = dataclasses.replace(snap, recent=(*snap.recent, partial(15.5, 16.0, (1, 0, 0, 0))))
    assert screen(render(stray, SourceStats(), info(), 16), 100) == text


def two_channels():
    left = dataclasses.replace(
        snapshot([dataclasses.replace(p, channel=1) for p in CALL[:2]], position_s=16.0),
        channel=1,
        non_speech=1,
        level_dbfs=-40.0,
    )
    right_calls = [one_hot(9.5, 12.0, "sad"), one_hot(13.0, 15.0, "angry", p=0.9)]
    right = dataclasses.replace(
        snapshot([dataclasses.replace(p, channel=2) for p in right_calls], position_s=16.0),
        channel=2,
        non_speech=2,
        level_dbfs=-12.0,
    )
    return [left, right]


@pytest.mark.parametrize("width", [80, 120])
def test_one_timeline_per_channel_with_one_axis_and_one_key(width):
    text = screen(render(two_channels(), SourceStats(), info(), 16), width, height=50)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert sum("ch1 heard" in line for line in lines) == 1
    assert sum("ch2 heard" in line for line in lines) == 1
    assert sum(line.strip("│ ").startswith("trend") for line in lines) == 2
    assert sum("╵" in line for line in lines) == 1  # one shared time axis
    assert text.count("░ listening") == 1  # one key
    assert "utterances 4 · 3 non-speech" in text  # summed over channels
    assert "level ch2" in text  # the loudest channel's level
    assert "now ch2  ANGRY  90 %" in text  # the newest result, and whose it is
    recent = lines[next(i for i, line in enumerate(lines) if "recent utterances" in line) + 1 :]
    assert "ch " in recent[0] and "emotion" in recent[0]  # a channel column
    assert "ch2 angry" in recent[1] and "ch2 sad" in recent[2] and "ch1 happy" in recent[3]


def test_a_provisional_result_on_another_channel_is_the_newest():
    left, right = two_channels()
    left = dataclasses.replace(
        left, in_speech=True, speech_s=1.0, partial=partial(15.0, 15.8, (0.1, 0.7, 0.1, 0.1))
    )
    text = screen(render([left, right], SourceStats(), info(), 16), 100, height=50)
    assert "now ch1 listening… HAPPY? 70 %" in text
    assert "● SPEECH ch1" in text


def test_view_factory_takes_one_snapshot_per_channel():
    view = view_factory(two_channels, SourceStats(), info(), clock_s=lambda: 0.0)
    assert "ch2 heard" in screen(view(), 100)


def test_a_single_stream_looks_as_before_in_a_list_or_alone():
    snap = snapshot(CALL, in_speech=True, speech_s=1.2)
    alone = screen(render(snap, SourceStats(), info(), 61), 100)
    assert screen(render([snap], SourceStats(), info(), 61), 100) == alone
    assert "ch1" not in alone and "heard ·" in alone


def test_recent_list_keeps_long_times_and_results_whole_at_120_columns():
    labels = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
    labels += ("boredom",)

    def said(start_s, label, p):
        probs = [(1 - p) / (len(labels) - 1)] * len(labels)
        probs[labels.index(label)] = p
        return prediction(start_s, start_s + 2.0, tuple(probs), labels=labels)

    view = ViewInfo("call", labels, 10, 0.5, 0.4, 0.3)
    for start, shown in ((1798.0, "29:58.0"), (3723.4, "1:02:03.4")):
        call = [said(start - 8, "surprised", 0.38), said(start, "happy", 0.75)]
        text = screen(render(snapshot(call), SourceStats(), view, start + 5), 120, height=40)
        lines = text.splitlines()
        top = next(i for i, line in enumerate(lines) if "recent utterances" in line)
        rows = [line[line.rindex("│", 0, -1) :] for line in lines[top + 2 : top + 4]]
        assert shown in rows[0] and "happy 75 %" in rows[0], rows
        assert "uncertain (leaning surprised 38 %)" in rows[1], rows
        assert not any("…" in row for row in rows)


def test_recent_list_says_uncertain_and_what_it_leaned_to_never_a_runner_up():
    """Issue 21.4: the list showed the runner-up in some rows and hid the leaning label of an
    uncertain row; every row is now the shown label in the logs' and the lines' wording."""
    from streamer.emotions import shown_text

    call = [one_hot(1.0, 3.0, "neutral"), prediction(4.0, 6.0, (0.2, 0.22, 0.38, 0.2))]
    frame = render(snapshot(call), SourceStats(), info(), 20)
    text = screen(frame, 120, height=40)
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if "recent utterances" in line)
    rows = [line[line.rindex("│", 0, -1) :] for line in lines[top + 2 : top + 4]]
    assert "uncertain (leaning sad 38 %)" in rows[0], rows
    assert "neutral 85 %" in rows[1], rows
    assert "runner-up" not in text and "happy 22" not in text
    for p, row in zip(reversed(call), rows, strict=True):  # the one wording, from one place
        assert shown_text(p, 0.4) in row


def test_the_status_line_stacks_its_parts_at_60_columns():
    stats = SourceStats(overruns=3, dropped_s=1.5, device_overflows=2)
    marked = dataclasses.replace(snapshot(CALL, in_speech=True, speech_s=1.2), non_speech=2)
    text = screen(render(marked, stats, info(), 61), 60)
    status = text.split("timeline")[0]
    assert "…" not in status and max(len(line) for line in text.splitlines()) <= 60
    whole = ["● SPEECH", "level", "dBFS", "elapsed 1:01", "audio 0:16.0", "utterances 4"]
    whole += ["2 non-speech", "latency 55 ms · p95 68 ms", "overruns 3 (1.5 s lost) · device 2"]
    for part in whole:
        assert part in " ".join(status.split()), part


@pytest.mark.parametrize(("width", "height"), [(40, 10), (100, 12), (30, 6)])
def test_a_small_terminal_shows_the_current_emotion_and_state_first(width, height):
    frame = render(snapshot(CALL[:3], in_speech=True, speech_s=0.6), SourceStats(), info(), 20)
    lines = screen(frame, width, height).splitlines()
    assert len(lines) < height and max(len(line) for line in lines) <= width
    head = " ".join(lines[:2])
    assert "● SPEECH" in head and "ANGRY" in head and "90 %" in head
    assert any("heard" in line for line in lines)  # then the strip, as far as it goes
    unsure = screen(render(snapshot(CALL), SourceStats(), info(), 20), width, height)
    assert "○ silence" in unsure and "UNCERTAIN" in " ".join(unsure.splitlines()[:2])


def test_rendering_two_channels_of_full_history_is_quick():
    history = [one_hot(3.0 * k, 3.0 * k + 2, LABELS[k % 4]) for k in range(200)]
    snaps = [dataclasses.replace(snapshot(history), channel=c) for c in (1, 2)]
    frame = render(snaps, SourceStats(), info(), 600)
    started = time.perf_counter()
    screen(frame, 120)
    assert time.perf_counter() - started < 0.5  # the view redraws 8 times a second


def test_latency_measured_on_the_clock_is_called_backlog_when_the_input_runs_ahead():
    """Issue 21.13: 40 s of audio in 2 s of wall time (a pipe read as fast as it comes)."""
    fast = screen(render(snapshot(CALL), SourceStats(), info(), elapsed_s=2.0), 100)
    assert "backlog 55 ms · p95 68 ms" in fast and "latency" not in fast
    live = screen(render(snapshot(CALL), SourceStats(), info(), elapsed_s=16.5), 100)
    assert "latency 55 ms · p95 68 ms" in live
    stream_time = dataclasses.replace(info(), on_clock=False)  # a fast file replay: stream time
    assert "latency 55 ms" in screen(render(snapshot(CALL), SourceStats(), stream_time, 2.0), 100)

"""The view's building blocks: the clock and the short names inside timeline bands."""

import io

import pytest
from predictions import prediction, snapshot
from rich.console import Console

from streamer.live.view import ViewInfo, render
from streamer.live.widgets import band_name, clock, short_names
from streamer.sources import SourceStats

# the shipped model's labels
DEFAULT_LABELS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
DEFAULT_LABELS += ("boredom",)


def screen(frame, width, height=30):
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(frame)
    return console.export_text()


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (1.2, "0:01.2"),  # truncating showed 0:01.1 (1.2 is 1.19999… in binary)
        (0.06, "0:00.1"),
        (59.96, "1:00.0"),  # the carry reaches the seconds and the minutes
        (599.94, "9:59.9"),
        (3599.96, "1:00:00.0"),  # ... and the hours
        (3723.45, "1:02:03.4"),
        (-0.3, "0:00.0"),
        (float("nan"), "0:00.0"),
    ],
)
def test_clock_rounds_tenths_like_the_logs(seconds, shown):
    assert clock(seconds, tenths=True) == shown
    if seconds >= 0:
        assert clock(seconds, tenths=True).split(":")[-1].split(".")[1] == f"{seconds:.1f}"[-1]


def test_clock_without_tenths_counts_whole_seconds():
    assert clock(59.9) == "0:59" and clock(61) == "1:01" and clock(3723.9) == "1:02:03"


def test_the_view_rounds_utterance_times():
    labels = ("neutral", "happy", "sad", "angry")
    shown = prediction(1.2, 59.96, (0.1, 0.1, 0.1, 0.7))
    text = screen(
        render(snapshot([shown]), SourceStats(), ViewInfo("f", labels, 10, 0.5, 0.4, 0.3), 61),
        80,
    )
    assert "0:01.2–1:00.0" in text


def test_short_names_are_unique_within_the_default_labels_at_every_band_width():
    named: dict[str, str] = {}
    for cells in range(0, 14):
        for label in DEFAULT_LABELS:
            name = band_name(label, cells, DEFAULT_LABELS)
            assert len(name) <= cells
            if name:
                # one name (in any case) stands for one label, across every width
                assert named.setdefault(name.lower(), label) == label, (cells, name)
    assert band_name("sad", 2, DEFAULT_LABELS) == "Sa"
    assert band_name("surprised", 2, DEFAULT_LABELS) == "Su"
    assert band_name("neutral", 2, DEFAULT_LABELS) == "N"  # one letter where it is unique


def test_short_names_of_a_label_that_begins_another():
    names = short_names(("sad", "sadness", "happy"))
    assert names == {"sad": "sad", "sadness": "sadn", "happy": "h"}


def test_timeline_bands_tell_sad_from_surprised():
    def hot(start, end, label):
        probs = tuple(0.9 if x == label else 0.1 / 8 for x in DEFAULT_LABELS)
        return prediction(start, end, probs, labels=DEFAULT_LABELS)

    # One column per second: two 2-second bands, too narrow for three letters.
    call = [hot(2.0, 4.0, "sad"), hot(5.0, 7.0, "surprised")]
    view = ViewInfo("f", DEFAULT_LABELS, 10, 1.0, 0.4, 0.3)
    text = screen(render(snapshot(call, position_s=9.0), SourceStats(), view, 9), 80)
    heard = next(line for line in text.splitlines() if "heard" in line)
    strip = heard.split("heard ", 1)[1]
    assert strip[2:4] == "Sa" and strip[5:7] == "Su"

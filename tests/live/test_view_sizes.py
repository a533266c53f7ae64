"""The live view at the sizes people use (issue 21.8): 60x20, 80x24 and 200x60, drawn as Rich's
Live draws it (cropped to the terminal), for one stream and for two channels, with the shipped
model's nine labels and a four-label model. Nothing may be cut: not the header (the source's
description), not a title, not a result, and nothing may run off the bottom of the terminal."""

import dataclasses
import io
import re

import pytest
from predictions import prediction, snapshot
from rich.console import Console
from rich.live_render import LiveRender

from streamer.live.view import ViewInfo, render
from streamer.sources import SourceStats

NINE = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "boredom")
FOUR = ("neutral", "happy", "sad", "angry")
SOURCE = "stereo-call.wav (WAV PCM_16, 44100 Hz, 2 ch, 1:02:03.4, each of 2 channels)"
SIZES = [(60, 20), (80, 24), (200, 60)]


def call(labels, channel=None, last=None, n=12):
    """``n`` utterances, 3.1 s apart, each leaning to another label; ``last`` replaces the
    probabilities of the newest."""
    out = []
    for k in range(n):
        probs = [0.02] * len(labels)
        probs[k % len(labels)] = 0.3 + 0.05 * (k % 5)
        probs[(k + 3) % len(labels)] = 0.2
        if k == n - 1 and last is not None:
            probs = list(last)
        total = sum(probs)
        p = prediction(2.0 + 3.1 * k, 4.2 + 3.1 * k, tuple(x / total for x in probs), labels)
        out.append(dataclasses.replace(p, channel=channel))
    return out


def snapshots(labels, channels, last=None):
    if channels == 1:
        return snapshot(call(labels, last=last), in_speech=True, speech_s=1.3)
    return [
        dataclasses.replace(
            snapshot(call(labels, c, last), in_speech=c == 2, speech_s=1.2), channel=c
        )
        for c in range(1, channels + 1)
    ]


def live_frame(frame, width, height) -> list[str]:
    """What rich.live.Live puts on a ``width`` x ``height`` terminal (it crops what is taller
    and marks the cut with "...")."""
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, force_terminal=True
    )
    console.print(LiveRender(frame, vertical_overflow="ellipsis"))
    return console.export_text().splitlines()


def flat(lines) -> str:
    """The frame's words in order, borders and line breaks gone (a wrapped line reads whole)."""
    text = " ".join(lines)
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize(("labels", "channels"), [(FOUR, 1), (NINE, 1), (NINE, 2)])
def test_nothing_is_cut_at_common_terminal_sizes(width, height, labels, channels):
    info = ViewInfo(SOURCE, labels, 10, 0.5, 0.45, 0.3)
    frame = render(snapshots(labels, channels), SourceStats(), info, 3723.4)
    lines = live_frame(frame, width, height)
    assert len(lines) <= height - 1, "\n".join(lines)  # one line stays for the cursor
    assert "..." not in lines[-1], "\n".join(lines)  # Live cropped nothing
    assert max(len(line) for line in lines) <= width
    words = flat(lines)
    assert SOURCE in words, "\n".join(lines)  # the header, whole
    spoken = words.replace("listening…", "").replace("waiting for speech…", "")
    assert "…" not in spoken, "\n".join(lines)  # no title, count or share cut short
    newest = call(labels)[-1]
    assert f"{newest.label.upper()} {newest.confidence:.0%}".replace("%", " %") in words


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_an_uncertain_result_keeps_what_it_leaned_to_at_every_size(width, height):
    leaning = (0.2, 0.02, 0.1, 0.05, 0.34, 0.1, 0.09, 0.05, 0.05)  # angry 34 %, under 45 %
    info = ViewInfo(SOURCE, NINE, 10, 0.5, 0.45, 0.3)
    frame = render(snapshots(NINE, 2, leaning), SourceStats(), info, 3723.4)
    lines = live_frame(frame, width, height)
    assert len(lines) <= height - 1 and max(len(line) for line in lines) <= width
    assert "UNCERTAIN" in flat(lines) and "(leaning angry 34 %)" in flat(lines), "\n".join(lines)


def test_the_header_was_clipped_at_60_columns_and_now_wraps_inside_the_panel():
    info = ViewInfo(SOURCE, FOUR, 10, 0.5, 0.45, 0.3)
    lines = live_frame(render(snapshots(FOUR, 1), SourceStats(), info, 61), 60, 20)
    assert lines[0].startswith("╭─ ser-live ─")  # the title holds what fits...
    assert SOURCE in flat(lines[:4])  # ...and the description heads the status, whole

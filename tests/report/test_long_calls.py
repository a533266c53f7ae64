"""The report of a 10-second, a one-hour and a six-hour call (issue 21.8): no text on top of
other text or cut at the page's edge, keys and notes outside the data, time ticks on whole clock
steps, and a six-hour call drawn in seconds. Timelines are generated (no audio needed)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from predictions import prediction

from streamer.report.cli import main
from streamer.report.figure import build_figure, time_step
from streamer.report.summary import sides, summarise
from streamer.report.timeline import read_timeline
from streamer.sinks.csv_log import CsvSink

NINE = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "boredom")
THRESHOLD = 0.45


def write_call(path, duration_s: float, two_sided: bool = False, seed: int = 7):
    """A call of ``duration_s`` with utterances of 0.6-7 s and pauses of 0.2-3 s, each leaning
    to a random label (two thirds under the threshold, as on a real call), on two sides when
    asked."""
    rng = np.random.default_rng(seed)
    sink = CsvSink(path, NINE, channel=two_sided, uncertain_below=THRESHOLD)
    t = 0.5
    while t < duration_s - 4:
        end = min(t + float(rng.uniform(0.6, 7.0)), duration_s - 1)
        probs = rng.dirichlet(np.full(len(NINE), 0.4))
        p = prediction(round(t, 3), round(end, 3), tuple(map(float, probs)), labels=NINE)
        if two_sided:
            p = dataclasses.replace(p, channel=int(rng.integers(1, 3)))
        sink.write(p)
        t = end + float(rng.uniform(0.2, 3.0))
    last = prediction(duration_s - 0.5, duration_s, (1.0,) + (0.0,) * 8, labels=NINE)
    sink.write(dataclasses.replace(last, channel=1) if two_sided else last)  # ends the call
    sink.close()
    return path


_FIGURES: dict = {}


def figure_of(path):
    """The report's figure for the timeline at ``path``, drawn once per test run."""
    if path not in _FIGURES:
        _FIGURES[path] = _draw(path)
    return _FIGURES[path]


def _draw(path):
    timeline = read_timeline(path)
    duration = timeline.end_s
    summary = summarise(timeline.predictions, duration, THRESHOLD, False)
    each = sides(timeline, duration, THRESHOLD, False, None)
    figure = build_figure(timeline, summary, None, THRESHOLD, 0.3, f"Call · {path.name}", each)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return figure, canvas.get_renderer()


def drawn_texts(figure, renderer):
    """(text, extent in pixels) of every text matplotlib draws: the figure's, and per axes its
    titles, labels, notes, legend and the tick labels inside the view."""
    texts = list(figure.texts)
    for ax in figure.axes:
        texts += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        texts += [ax.xaxis.label, ax.yaxis.label]
        lo, hi = sorted(ax.get_xlim())
        texts += [t for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
        lo, hi = sorted(ax.get_ylim())
        texts += [t for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    out = []
    for text in texts:
        if text.get_visible() and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            if extent.width >= 1 and extent.height >= 1:
                out.append((text.get_text(), extent))
    return out


CALLS = {"10 s": (10.0, False), "1 h": (3600.0, False), "6 h": (21600.0, False)}
CALLS["1 h, two sides"] = (3600.0, True)


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    root = tmp_path_factory.mktemp("calls")
    return {
        name: write_call(root / f"call-{k}.csv", duration, two_sided)
        for k, (name, (duration, two_sided)) in enumerate(CALLS.items())
    }


@pytest.mark.parametrize("name", list(CALLS))
def test_no_text_sits_on_other_text_or_runs_off_the_page(calls, name):
    figure, renderer = figure_of(calls[name])
    texts = drawn_texts(figure, renderer)
    width, height = figure.bbox.width, figure.bbox.height
    for text, box in texts:
        assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, (
            f"{text!r} is cut at the edge of the page"
        )
    clashes = [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(texts, 2)
        if min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > 1
        and min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > 1
    ]
    assert not clashes, clashes


@pytest.mark.parametrize("name", list(CALLS))
def test_keys_and_notes_sit_outside_the_data(calls, name):
    """On a long call the points cover anything drawn among them: the valence/arousal key and
    the uncertain note sit above their plots."""
    figure, renderer = figure_of(calls[name])
    for ax in figure.axes:
        plot = ax.get_window_extent(renderer)
        legend = ax.get_legend()
        if legend is not None and ax.get_ylabel() == "valence / arousal":
            assert legend.get_window_extent(renderer).y0 >= plot.y1 - 1
        if ax.get_ylabel() == "confidence":
            assert not ax.texts  # no note among the points
    notes = [ax._left_title.get_text() for ax in figure.axes]
    assert any("shown as uncertain (< 45%)" in note for note in notes)


@pytest.mark.parametrize(
    ("duration_s", "ticks"),
    [
        (10.0, ["0:00", "0:02", "0:04", "0:06", "0:08", "0:10"]),
        (3600.0, ["0:00", "10:00", "20:00", "30:00", "40:00", "50:00", "1:00:00"]),
        (21600.0, ["0:00", "1:00:00", "2:00:00", "3:00:00", "4:00:00", "5:00:00", "6:00:00"]),
    ],
)
def test_time_ticks_fall_on_whole_clock_steps(calls, duration_s, ticks):
    """A 6-hour call had ticks at 41:40, 1:23:20, ..."""
    name = next(n for n, (d, two_sided) in CALLS.items() if d == duration_s and not two_sided)
    figure, _ = figure_of(calls[name])
    bottom = next(ax for ax in figure.axes if ax.get_xlabel().startswith("time"))
    lo, hi = bottom.get_xlim()
    shown = [t.get_text() for t in bottom.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert shown == ticks
    assert bottom.get_xlabel() == ("time (h:mm:ss)" if duration_s >= 3600 else "time (m:ss)")


def test_time_steps():
    assert [time_step(s) for s in (5, 10, 60, 600, 3600, 21600)] == [1, 2, 10, 120, 600, 3600]
    assert time_step(10 * 24 * 3600) >= 24 * 3600  # ten days: still at most nine intervals


@pytest.mark.parametrize(("name", "suffix"), [("6 h", ".png"), ("1 h", ".svg")])
def test_long_calls_render_through_the_command(calls, tmp_path, name, suffix, capsys):
    out = tmp_path / f"report{suffix}"
    assert main([str(calls[name]), "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert capsys.readouterr().out.startswith(f"wrote {out}")

"""ser-batch's progress: recordings, audio hours, rate, ETA and failures, on a terminal or not."""

import io

import pytest
from rich.console import Console

from streamer.batch.job import CallResult
from streamer.batch.progress import PlainProgress, RichProgress, Tally


def results():
    yield CallResult(path="/a.wav", status="ok", duration_s=1800.0), 1800.0
    yield CallResult(path="/b.wav", status="error", error="input file is empty: /b.wav"), 0.0


def test_tally_rates_audio_hours_per_hour_and_estimates_the_rest():
    tally = Tally(total=3, total_audio_s=3 * 3600.0)
    tally.started -= 10.0  # ten seconds in
    for result, seconds in results():
        tally.add(result, seconds)
    assert (tally.done, tally.failed, tally.audio_s) == (2, 1, 1800.0)
    assert tally.rate == pytest.approx(180.0, rel=0.02)
    assert tally.eta_s == pytest.approx(9000.0 / 180.0, rel=0.02)


def test_audio_in_progress_counts_before_its_recording_ends():
    """Issue 21.12: with a few long files a count of recordings says nothing; the audio read
    so far by the workers does."""
    tally = Tally(total=2, total_audio_s=7200.0)
    tally.read("/long.wav", 1800.0)
    assert tally.audio_s == 1800.0
    assert tally.describe().startswith("0.50 h of 2.00 h audio (25%) · 0/2 recordings")
    tally.add(CallResult(path="/long.wav", status="ok"), 3600.0)
    assert tally.audio_s == 3600.0  # the partial figure is replaced by the whole


def test_plain_lines_when_not_on_a_terminal():
    stream = io.StringIO()
    tally = Tally(total=2, total_audio_s=3600.0)
    with PlainProgress(tally, stream) as progress:
        for result, seconds in results():
            tally.add(result, seconds)
            progress.update(result, result.path.lstrip("/"))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ser-batch: 0.50 h of 1.00 h audio (50%) · 1/2 recordings")
    assert "h/h" in lines[0] and "ETA" in lines[0] and lines[0].endswith("a.wav: ok")
    assert "1 failed" in lines[1] and "input file is empty" in lines[1]


def test_rich_bar_shows_the_same_figures():
    console = Console(file=io.StringIO(), width=160, force_terminal=True, record=True)
    tally = Tally(total=2, total_audio_s=1800.0)
    with RichProgress(tally, console) as progress:
        for result, seconds in results():
            tally.add(result, seconds)
            progress.update(result, result.path.lstrip("/"))
    text = console.export_text()
    assert "2/2 recordings" in text and "30.0 min of 30.0 min audio" in text
    assert "1 failed" in text and "b.wav: input file is empty" in text


def test_names_are_not_markup_on_the_bar():
    console = Console(file=io.StringIO(), width=160, force_terminal=True, record=True)
    tally = Tally(total=1, total_audio_s=60.0)
    with RichProgress(tally, console) as progress:
        result = CallResult(path="/x", status="error", error="cannot read [bold]x[/bold]")
        tally.add(result, 0.0)
        progress.update(result, "[red]x.wav")
    assert "[red]x.wav: cannot read [bold]x[/bold]" in console.export_text()

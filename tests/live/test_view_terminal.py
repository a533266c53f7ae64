"""How ser-live drives the live view in a terminal: the alternate screen, the last frame."""


import dataclasses
import io

import pytest
from predictions import LABELS, one_hot, snapshot
from rich.console import Console

from streamer.live import session
from streamer.settings import load_settings
from streamer.sources import SourceStats

CALL = [one_hot(1.0, 3.0, "neutral"), one_hot(4.0, 7.5, "happy"), one_hot(9.0, 12.0, "angry")]


class FakeLive:
    """Stands in for rich.live.Live: records how it was made and what is printed after it."""

    made: list["FakeLive"] = []

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.console = Console(file=io.StringIO(), width=100, height=40)
        self.printed_while_live = None
        FakeLive.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.printed_while_live = self.console.file.getvalue()
        return False


class Stream:
    labels = LABELS
    uncertain_below = 0.45

    def snapshots(self):
        return [snapshot(CALL)]


class Source:
    description = "file call.wav"
    stats = SourceStats()


@pytest.fixture
def live(monkeypatch):
    FakeLive.made = []
    monkeypatch.setattr("rich.live.Live", FakeLive)
    return FakeLive.made


def run_with_ui(monkeypatch, run, stream=None):
    monkeypatch.setattr("streamer.engine.run.run", run)
    settings = load_settings()
    return session._run_with_ui(Source(), stream or Stream(), [None], None, settings, None)


def test_the_view_runs_on_the_alternate_screen_and_leaves_its_last_frame(monkeypatch, live):
    """Drawn inline, a terminal shrunk and widened again kept fragments of wider frames; on the
    alternate screen Rich redraws it whole. The last frame is then printed once on the normal
    screen, so it stays in view above the summary line."""
    assert run_with_ui(monkeypatch, lambda *a: "summary") == "summary"
    (made,) = live
    assert made.kwargs["screen"] is True
    assert made.printed_while_live == ""  # nothing printed over the live frames
    final = made.console.file.getvalue()
    assert "timeline" in final and "utterances 3" in final and " ANGRY " in final
    assert final.count("timeline") == 1  # once


def test_a_failed_run_still_leaves_its_last_frame(monkeypatch, live):
    from streamer.engine.run import InputLost

    def lost(*args):
        raise InputLost("audio input lost", None)

    with pytest.raises(InputLost):
        run_with_ui(monkeypatch, lost)
    assert "timeline" in live[0].console.file.getvalue()


def test_a_second_ctrl_c_leaves_at_once_without_a_frame(monkeypatch, live):
    def interrupted(*args):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_with_ui(monkeypatch, interrupted)
    assert live[0].console.file.getvalue() == ""


def test_the_view_and_the_screenshot_take_one_snapshot_per_channel(monkeypatch, live, tmp_path):
    def channels():
        left = dataclasses.replace(snapshot(CALL[:2], position_s=13.0), channel=1)
        return [left, dataclasses.replace(snapshot(CALL[2:], position_s=13.0), channel=2)]

    class TwoChannels(Stream):
        def snapshots(self):
            return channels()

    run_with_ui(monkeypatch, lambda *a: None, TwoChannels())
    final = live[0].console.file.getvalue()
    assert "ch1 heard" in final and "ch2 heard" in final
    shot = tmp_path / "shot.svg"
    session.save_last_frame(shot, TwoChannels(), Source(), load_settings(), 13.0)
    assert "ch2" in shot.read_text()

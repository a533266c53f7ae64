"""Run totals: talk-time shares, mean mood and the most intense moment over every utterance."""

import pytest
from predictions import LABELS, one_hot, prediction, screen, snapshot

from streamer.emotions import CIRCUMPLEX
from streamer.live.view import ViewInfo, render
from streamer.sinks.totals import Totals
from streamer.sources import SourceStats


def test_shares_cover_every_utterance_of_a_long_run():
    totals = Totals(uncertain_below=0.4)
    for i in range(3000):  # far more than any recent-history window
        label = "angry" if i < 1000 else "happy"
        totals.write(one_hot(2.0 * i, 2.0 * i + 1.0, label))
    assert totals.utterances == 3000
    assert totals.speech_s == pytest.approx(3000.0)
    assert totals.shares() == pytest.approx({"happy": 2 / 3, "angry": 1 / 3})


def test_shown_shares_gate_uncertain_utterances_and_plain_shares_do_not():
    totals = Totals(uncertain_below=0.4)
    totals.write(one_hot(0.0, 3.0, "sad"))
    totals.write(prediction(3.0, 4.0, (0.20, 0.25, 0.21, 0.34)))  # angry at 34 %
    assert totals.shares() == pytest.approx({"sad": 0.75, "angry": 0.25})
    assert totals.shares(shown=True) == pytest.approx({"sad": 0.75, "uncertain": 0.25})


def test_mood_is_talk_time_weighted_and_peak_is_the_highest_arousal():
    totals = Totals()
    assert totals.mood() is None and totals.most_intense is None
    totals.write(prediction(0.0, 3.0, (0.0, 0.0, 1.0, 0.0)))  # sad, 3 s
    totals.write(prediction(5.0, 6.0, (0.0, 0.0, 0.0, 1.0)))  # angry, 1 s
    (sv, sa), (av, aa) = CIRCUMPLEX["sad"], CIRCUMPLEX["angry"]
    assert totals.mood() == pytest.approx(((3 * sv + av) / 4, (3 * sa + aa) / 4))
    peak = totals.most_intense
    assert (peak.start_s, peak.label, peak.arousal) == (5.0, "angry", aa)


def test_live_view_share_counts_the_whole_run_not_the_recent_window():
    totals = Totals(uncertain_below=0.4)
    early = [one_hot(2.0 * i, 2.0 * i + 1.0, "angry") for i in range(300)]
    late = [one_hot(600.0 + 2.0 * i, 601.0 + 2.0 * i, "happy") for i in range(200)]
    for p in early + late:
        totals.write(p)
    info = ViewInfo("call.wav", LABELS, 10, 0.5, 0.4, 0.3)
    text = screen(render(snapshot(late), SourceStats(), info, 10.0, totals), 120)
    assert "angry 60%" in text and "happy 40%" in text

"""What calls.csv says of a call (issue 21.3): shares of what was shown, uncertain included,
the peak of arousal, the dominant negative emotion and its most confident moment, per channel."""

import dataclasses

import pytest
from predictions import one_hot, prediction

from streamer.batch.summary import CallSummary


def call():
    return [
        one_hot(0.0, 2.0, "angry", 0.9),  # shown angry, arousal high
        one_hot(3.0, 4.0, "angry", 0.6),  # shown angry, less sure
        one_hot(5.0, 9.0, "sad", 0.5),  # shown sad: 4 s
        prediction(10.0, 13.0, (0.3, 0.3, 0.2, 0.2)),  # confidence 0.3: shown uncertain
        one_hot(14.0, 15.0, "happy", 0.8),
    ]


def test_shares_of_what_was_shown_sum_to_one_with_uncertain():
    summary = CallSummary(uncertain_below=0.4)
    for p in call():
        summary.write(p)
    (whole,) = summary.summaries()
    assert whole.utterances == 5 and whole.speech_s == pytest.approx(11.0)
    assert whole.shares == pytest.approx(
        {"sad": 4 / 11, "angry": 3 / 11, "uncertain": 3 / 11, "happy": 1 / 11}
    )
    assert sum(whole.shares.values()) == pytest.approx(1.0)


def test_the_peak_is_the_highest_arousal_and_the_negative_is_named_with_its_best_moment():
    summary = CallSummary(uncertain_below=0.4)
    for p in call():
        summary.write(p)
    (whole,) = summary.summaries()
    assert (whole.peak_arousal.start_s, whole.peak_arousal.label) == (0.0, "angry")
    # sad has the most talk time of the negative labels; its most confident instance is its one
    assert whole.dominant_negative == "sad"
    assert whole.dominant_negative_share == pytest.approx(4 / 11)
    assert (whole.dominant_negative_peak.start_s, whole.dominant_negative_peak.value) == (
        5.0,
        pytest.approx(0.5),
    )


def test_the_most_confident_instance_of_the_dominant_negative():
    summary = CallSummary(uncertain_below=0.4)
    for p in [one_hot(0, 1, "angry", 0.6), one_hot(2, 4, "angry", 0.95), one_hot(5, 6, "sad")]:
        summary.write(p)
    (whole,) = summary.summaries()
    assert whole.dominant_negative == "angry"
    assert whole.dominant_negative_peak.start_s == 2 and whole.dominant_negative_peak.value == (
        pytest.approx(0.95)
    )


def test_channels_apart_get_their_own_summaries_and_a_silent_side_is_there_too():
    summary = CallSummary(uncertain_below=0.4, channels=3)
    for p in call():
        summary.write(dataclasses.replace(p, channel=1 if p.start_s < 9 else 2))
    whole, left, right, third = summary.summaries()
    assert (whole.channel, left.channel, right.channel, third.channel) == (0, 1, 2, 3)
    assert (left.utterances, right.utterances, third.utterances) == (3, 2, 0)
    assert sum(left.shares.values()) == pytest.approx(1.0)
    assert right.shares == pytest.approx({"uncertain": 0.75, "happy": 0.25})
    assert right.dominant_negative == "" and third.shares == {}


def test_provisional_results_count_nowhere():
    summary = CallSummary(uncertain_below=0.4)
    summary.write(dataclasses.replace(one_hot(0, 1, "angry"), final=False))
    assert summary.summaries()[0].utterances == 0

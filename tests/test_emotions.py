"""The emotion vocabulary: colours, the arousal/valence mapping, the uncertain gate, the trend."""

import numpy as np
import pytest
from predictions import LABELS, one_hot, prediction

from streamer.emotions import (
    CIRCUMPLEX,
    COLOURS,
    UNCERTAIN,
    affect,
    colour_of,
    mood_word,
    shown_label,
    trend,
)


def test_every_label_of_the_common_vocabulary_has_a_colour_and_a_place():
    from training.data.corpora import LABELS as COMMON

    for label in COMMON:
        assert label in COLOURS and label in CIRCUMPLEX
        valence, arousal = CIRCUMPLEX[label]
        assert -1 <= valence <= 1 and -1 <= arousal <= 1
    assert len({COLOURS[label] for label in (*COMMON, UNCERTAIN)}) == len(COMMON) + 1


def test_unknown_labels_get_a_stable_colour():
    assert colour_of("contempt") == colour_of("contempt")
    assert colour_of("contempt").startswith("#") and len(colour_of("contempt")) == 7


def test_affect_is_the_probability_weighted_mean_of_label_points():
    assert affect(["angry", "happy"], [1.0, 0.0]) == pytest.approx(CIRCUMPLEX["angry"])
    (hv, ha), (sv, sa) = CIRCUMPLEX["happy"], CIRCUMPLEX["sad"]
    mixed = affect(["happy", "sad"], [0.5, 0.5])
    assert mixed == pytest.approx(((hv + sv) / 2, (ha + sa) / 2))


def test_affect_ignores_unplaced_labels_and_renormalises():
    assert affect(["angry", "contempt"], [0.4, 0.6]) == pytest.approx(CIRCUMPLEX["angry"])
    assert affect(["contempt", "pride"], [0.5, 0.5]) is None


@pytest.mark.parametrize(
    ("point", "word"),
    [
        ((0.5, 0.5), "excited"),
        ((-0.5, 0.5), "tense"),
        ((-0.5, -0.5), "low"),
        ((0.5, -0.5), "relaxed"),
        ((0.05, -0.1), "even"),
    ],
)
def test_mood_words_name_the_quadrants(point, word):
    assert mood_word(*point) == word


def test_the_uncertain_gate_shows_uncertain_strictly_below_the_threshold():
    sure = prediction(0, 1, (0.1, 0.5, 0.2, 0.2))
    assert shown_label(sure, 0.5) == "happy"
    assert shown_label(sure, 0.51) == UNCERTAIN
    assert sure.label == "happy"  # the arg-max itself is never changed


def test_trend_is_an_exponential_moving_average_over_utterances():
    first, second = one_hot(0, 1, "happy", p=1.0), one_hot(2, 3, "sad", p=1.0)
    smoothed = trend([first, second, second], alpha=0.5)
    happy, sad = LABELS.index("happy"), LABELS.index("sad")
    assert smoothed[0][happy] == 1.0
    assert smoothed[1][[happy, sad]] == pytest.approx([0.5, 0.5])
    assert smoothed[2][[happy, sad]] == pytest.approx([0.25, 0.75])
    assert np.allclose([s.sum() for s in smoothed], 1.0)
    assert trend([first, second], alpha=1.0)[1][sad] == 1.0  # alpha 1: no smoothing


def test_the_one_wording_of_a_result():
    """Issue 21.4: the view, the lines, the logs and the reports say a result the same way."""
    from streamer.emotions import shown_detail, shown_text, shown_width

    sure = prediction(0, 1, (0.1, 0.12, 0.06, 0.72))
    unsure = prediction(0, 1, (0.2, 0.22, 0.38, 0.2))
    assert shown_text(sure, 0.45) == "angry 72 %"
    assert shown_text(unsure, 0.45) == "uncertain (leaning sad 38 %)"
    assert shown_detail(unsure, 0.45) == "(leaning sad 38 %)"
    assert shown_text(unsure, 0.38) == "sad 38 %"  # at the threshold it is shown as itself
    widest = prediction(0, 1, (0.0, 0.0, 0.0, 1.0), labels=("neutral", "happy", "sad", "surprised"))
    assert len(shown_text(widest, 0.45)) <= shown_width(widest.labels)
    unsure_widest = prediction(0, 1, (0.3, 0.0, 0.0, 0.7), labels=widest.labels)
    assert len(shown_text(unsure_widest, 0.99)) == shown_width(widest.labels) - 1  # 70 vs 100

"""Label sets: --map renames or merges before --labels keeps a subset; only plain names."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.data.corpora import Clip, labels_in
from training.data.labels import LabelError, LabelPlan, check_present, parse_plan


def _clips(*labels: str) -> list[Clip]:
    return [Clip(Path(f"/x/{i}.wav"), "c", f"c:{i % 2}", x) for i, x in enumerate(labels)]


def test_the_map_merges_first_and_the_list_keeps_a_subset_counting_the_rest() -> None:
    plan = parse_plan(["neutral", "afraid", "happy"], ["calm=neutral", "fearful=afraid"])
    clips = _clips("neutral", "calm", "fearful", "happy", "sad", "sad", "disgust")
    kept, dropped = plan.apply(clips)
    assert [c.label for c in kept] == ["neutral", "neutral", "afraid", "happy"]
    assert [c.path.name for c in kept] == ["0.wav", "1.wav", "2.wav", "3.wav"]
    assert dict(dropped) == {"sad": 2, "disgust": 1}
    assert LabelPlan().apply(clips) == (clips, {})  # no plan: every clip as it is


def test_labels_outside_the_common_vocabulary_come_after_it_alphabetically() -> None:
    assert labels_in(_clips("satisfied", "neutral", "frustrated", "angry")) == (
        "neutral",
        "angry",
        "frustrated",
        "satisfied",
    )


@pytest.mark.parametrize(
    ("labels", "maps", "message"),
    [
        (["happy", "<b>sad</b>"], None, "'<b>sad</b>' is not a plain label name"),
        (["happy"], None, "at least two labels"),
        (None, ["calm"], "expected OLD=NEW"),
        (None, ["calm="], "expected OLD=NEW"),
        (None, ["calm=two words"], "'two words' is not a plain label name"),
        (None, ["calm=neutral", "calm=sad"], "'calm' is already mapped to 'neutral'"),
    ],
)
def test_bad_label_arguments_are_refused(labels, maps, message) -> None:
    with pytest.raises(LabelError, match=message):
        parse_plan(labels, maps)


def test_a_kept_label_without_examples_is_refused() -> None:
    plan = parse_plan(["happy", "bored"], None)
    kept, _ = plan.apply(_clips("happy", "sad"))
    with pytest.raises(LabelError, match="label 'bored' has no examples"):
        check_present(plan, kept)

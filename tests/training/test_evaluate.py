"""Speaker grouping guarantees and metric functions on known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.data.corpora import Clip
from training.data.dataset import Dataset, train_data
from training.evaluation import metrics as evaluate
from training.models.trainer import inner_splits

LABELS = ("neutral", "happy", "sad", "angry")


def _clips(n_speakers: int = 10, per_class: int = 3) -> list[Clip]:
    return [
        Clip(Path(f"/x/s{s}_{label}_{i}.wav"), "fake", f"fake:{s:02d}", label)
        for s in range(n_speakers)
        for label in LABELS
        for i in range(per_class)
    ]


def _dataset(n_aug: int = 2, folds: int = 5) -> Dataset:
    clips = _clips()
    fold = evaluate.speaker_folds(clips, folds, seed=7)
    parents = np.repeat(np.arange(len(clips)), n_aug)
    return Dataset(
        clips=clips,
        labels=LABELS,
        y=np.array([LABELS.index(c.label) for c in clips]),
        fold=fold,
        vectors=np.arange(len(clips), dtype=np.float32)[:, None],
        frames=None,
        aug_parent=parents,
        aug_vectors=parents.astype(np.float32)[:, None],
        aug_frames=None,
    )


def test_no_speaker_in_two_folds_and_every_fold_used() -> None:
    clips = _clips()
    fold = evaluate.speaker_folds(clips, 5, seed=1234)
    speakers_per_fold = evaluate.fold_speakers(clips, fold)
    assert sorted(speakers_per_fold) == [0, 1, 2, 3, 4]
    seen = [s for speakers in speakers_per_fold.values() for s in speakers]
    assert len(seen) == len(set(seen)) == 10
    # deterministic for a seed
    assert np.array_equal(fold, evaluate.speaker_folds(clips, 5, seed=1234))


def test_too_few_speakers_is_an_error() -> None:
    with pytest.raises(evaluate.EvaluationError, match="speakers"):
        evaluate.speaker_folds(_clips(n_speakers=3), 5, seed=0)


def test_the_random_split_puts_speakers_on_both_sides_and_keeps_labels_balanced() -> None:
    """The tutorials' split, kept to show their figures: every speaker ends up in several folds
    (so a test speaker was heard in training), each fold holds every label equally."""
    clips = _clips(n_speakers=4, per_class=5)
    fold = evaluate.random_folds(clips, 5, seed=1234)
    assert sorted(set(fold)) == [0, 1, 2, 3, 4]
    folds_of = {
        s: {int(k) for c, k in zip(clips, fold, strict=True) if c.speaker == s}
        for s in {c.speaker for c in clips}
    }
    assert all(len(ks) > 1 for ks in folds_of.values())
    for k in range(5):
        labels = [c.label for c, f in zip(clips, fold, strict=True) if f == k]
        assert sorted(labels.count(x) for x in LABELS) == [4, 4, 4, 4]
    assert np.array_equal(fold, evaluate.random_folds(clips, 5, seed=1234))


def test_a_label_from_one_speaker_only_is_refused() -> None:
    clips = _clips(n_speakers=3)
    clips.append(Clip(Path("/x/s0_bored.wav"), "fake", "fake:00", "bored"))
    with pytest.raises(evaluate.EvaluationError, match="'bored' comes from one speaker only"):
        evaluate.check_label_speakers(clips)
    evaluate.check_label_speakers(_clips(n_speakers=2))  # every label from two speakers: fine


def test_augmented_copies_stay_with_their_clip_in_training_only() -> None:
    ds = _dataset()
    for k in range(5):
        s = evaluate.split(ds.fold, ds.aug_parent, k)
        test_speakers = {ds.clips[i].speaker for i in s.test}
        train_speakers = {ds.clips[i].speaker for i in s.train}
        assert not test_speakers & train_speakers
        aug_speakers = {ds.clips[ds.aug_parent[j]].speaker for j in s.train_aug}
        assert not aug_speakers & test_speakers
        assert set(ds.aug_parent[s.train_aug]) == set(s.train)  # every training clip's copies
        td = train_data(ds, s.train, s.train_aug)
        assert not set(td.group) & {k}
        # the augmented rows carry their parent's label and fold
        assert np.array_equal(td.y[td.is_aug], ds.y[ds.aug_parent[s.train_aug]])


def test_inner_validation_never_mixes_groups_and_skips_copies() -> None:
    ds = _dataset()
    s = evaluate.split(ds.fold, ds.aug_parent, 0)
    td = train_data(ds, s.train, s.train_aug)
    for tr, va in inner_splits(td, 3):
        assert not set(td.group[tr]) & set(td.group[va])
        assert not td.is_aug[va].any()


def test_babble_comes_from_other_speakers_of_the_same_fold() -> None:
    clips = _clips()
    fold = evaluate.speaker_folds(clips, 5, seed=3)
    for i in range(0, len(clips), 7):
        sources = evaluate.babble_sources(clips, fold, i, seed=3)
        assert sources
        assert all(fold[j] == fold[i] and clips[j].speaker != clips[i].speaker for j in sources)


def test_ua_wa_on_known_answers() -> None:
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 2, 2])
    # recalls: 3/4, 1/2, 2/2 -> UA = 0.75; WA = 6/8
    assert evaluate.unweighted_accuracy(y_true, y_pred, 3) == pytest.approx(0.75)
    assert evaluate.weighted_accuracy(y_true, y_pred) == pytest.approx(0.75)
    y_pred2 = np.array([0, 0, 0, 0, 0, 0, 0, 0])
    assert evaluate.unweighted_accuracy(y_true, y_pred2, 3) == pytest.approx(1 / 3)
    assert evaluate.weighted_accuracy(y_true, y_pred2) == pytest.approx(0.5)
    cm = evaluate.confusion(y_true, y_pred, 4)
    assert cm.tolist() == [[3, 1, 0, 0], [1, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]]
    recall = evaluate.per_class_recall(cm)
    assert np.isnan(recall[3])  # absent class does not count in UA
    assert evaluate.unweighted_accuracy(y_true, y_pred, 4) == pytest.approx(0.75)


def test_ece_and_temperature() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    y = np.array([0, 1, 0, 0])
    # bin 0.9: acc 0.5 vs conf 0.9 (weight 0.5); bin 0.6: acc 1.0 vs 0.6 (weight 0.5)
    assert evaluate.expected_calibration_error(probs, y) == pytest.approx(0.4)
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2000, 4)) * 4
    y = np.array([rng.choice(4, p=np.exp(r / 4) / np.exp(r / 4).sum()) for r in logits])
    over = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)  # 4x overconfident
    t = evaluate.fit_temperature(over, y)
    assert 3.0 < t < 5.5
    calibrated = evaluate.apply_temperature(over, t)
    assert np.allclose(calibrated.sum(1), 1.0)
    assert evaluate.expected_calibration_error(calibrated, y) < evaluate.expected_calibration_error(
        over, y
    )

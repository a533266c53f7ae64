"""The shipped model, recomputed rather than re-read: it must still recognise the corpus it was
trained on through this ser-live's loader and extractor, and the figures stored in it must agree
with the per-fold results and confusion matrix stored beside them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from tools import skip_or_fail

from streamer.classifier import Classifier
from streamer.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "models" / "ser-default.onnx"
TARGET_UA = 0.60  # issue 4: speaker-independent RAVDESS 8-class UA (met by the blend)
SEEN_CLIPS_UA = 0.70  # measured 0.875 on the sample below (clips the final fit has seen)
MAX_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def meta() -> dict[str, str]:
    if not SHIPPED.is_file():
        skip_or_fail(f"{SHIPPED} is missing")
    return {p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}


def recall_per_class(truth: list[str], predicted: list[str], labels: tuple[str, ...]) -> list:
    pairs = list(zip(truth, predicted, strict=True))
    return [np.mean([p == t for t, p in pairs if t == label]) for label in labels]


@pytest.mark.corpus
def test_recognises_a_sample_of_its_corpus(meta, ravdess_dir: Path) -> None:
    """96 RAVDESS clips (actors 4, 8 ... 24; two per emotion each) through the training loader
    and the live classifier. A label order swapped in export, a loader or extractor that drifted
    from what the model was trained on, or a broken graph falls far below the floor."""
    from training import audio, corpora

    clf = Classifier(SHIPPED)
    taken: dict[tuple[str, str], int] = {}
    sample = []
    for clip in corpora.read_corpus(ravdess_dir.parent, "ravdess"):
        key = (clip.speaker, clip.label)
        if int(clip.speaker.split(":")[1]) % 4 == 0 and taken.get(key, 0) < 2:
            taken[key] = taken.get(key, 0) + 1
            sample.append(clip)
    assert len(sample) == 6 * 8 * 2
    predicted = [clf.labels[int(np.argmax(clf.predict(audio.load(c.path))))] for c in sample]
    ua = float(np.mean(recall_per_class([c.label for c in sample], predicted, clf.labels)))
    assert ua >= SEEN_CLIPS_UA, f"UA {ua:.3f} on clips the model was trained on"


def test_stored_figures_agree_with_the_stored_results(meta) -> None:
    per_fold = json.loads(meta["cv_ua_per_fold"])
    assert len(per_fold) == int(meta["folds"])
    assert float(meta["cv_ua"]) == pytest.approx(np.mean(per_fold), abs=1e-4)
    assert float(meta["cv_ua_std"]) == pytest.approx(np.std(per_fold), abs=1e-4)
    labels = json.loads(meta["labels"])
    confusion = np.array(json.loads(meta["cv_confusion"]), dtype=float)
    assert confusion.shape == (len(labels), len(labels))
    assert confusion.sum() == int(meta["n_clips"])  # every clip tested exactly once
    recall = np.diag(confusion) / confusion.sum(axis=1)
    stored = json.loads(meta["cv_recall"])
    assert list(stored) == labels
    np.testing.assert_allclose(list(stored.values()), recall, atol=1e-4)
    assert float(meta["cv_wa"]) == pytest.approx(np.trace(confusion) / confusion.sum(), abs=0.01)


def test_is_a_full_speaker_independent_run_that_meets_issue_4(meta) -> None:
    assert meta["smoke"] == "false"  # a smoke run never replaces the shipped model
    assert "by speaker" in meta["cv_method"]
    assert meta["corpora"].split("+")[0] == "ravdess"
    assert len(json.loads(meta["labels"])) == 8
    assert float(meta["cv_ua"]) >= TARGET_UA
    cross = json.loads(meta["cross_corpus"])
    for result in cross.values():
        assert result["ua"] > 1.0 / len(result["classes"])


def test_loads_with_the_running_extractor_and_fits_the_size_budget(meta) -> None:
    # A ModelError here means streamer/features changed: retrain (command in models/README.md).
    Classifier(SHIPPED)
    assert SHIPPED.stat().st_size <= MAX_BYTES

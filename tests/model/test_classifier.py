import json

import numpy as np
import pytest
from onnx_factory import LABELS, write_linear_model
from synth import vowel

from streamer import features
from streamer.model.classifier import Classifier, ModelError
from streamer.settings import load_settings


def test_probabilities_cover_every_label_and_sum_to_one(linear_model):
    classifier = Classifier(linear_model)
    assert classifier.labels == LABELS
    probs = classifier.predict(vowel(1.2))
    assert probs.shape == (len(LABELS),)
    assert probs.sum() == pytest.approx(1.0)
    assert np.all(probs >= 0)


def test_model_with_other_feature_spec_is_refused(tmp_path):
    spec = json.loads(features.feature_spec())
    spec["version"] = "0-old"
    path = write_linear_model(tmp_path / "old.onnx", feature_spec=json.dumps(spec))
    with pytest.raises(ModelError, match="feature spec .*v0-old.*retrain"):
        Classifier(path)


def test_file_without_ser_live_metadata_is_refused(tmp_path):
    path = write_linear_model(tmp_path / "bare.onnx", drop_metadata=("labels", "cv_ua"))
    with pytest.raises(ModelError, match="not a ser-live model .*labels, cv_ua"):
        Classifier(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "model not found"), (b"not an onnx file", "cannot load ONNX model")],
)
def test_missing_or_garbage_file_is_refused(tmp_path, content, message):
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        Classifier(path)


def test_shipped_default_model_loads_and_carries_its_figures():
    classifier = Classifier(load_settings().model.path)
    assert len(classifier.labels) >= 4
    assert 0.0 < classifier.info.cv_ua <= 1.0
    assert 0.0 < classifier.info.cv_wa <= 1.0
    probs = classifier.predict(vowel(2.0))
    assert probs.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "labels", [("neutral", "<b>angry</b>"), ("neutral", "a,b"), ("neutral", "x" * 41), ("ok",)]
)
def test_labels_that_are_not_plain_names_are_refused(tmp_path, labels):
    path = write_linear_model(tmp_path / "bad.onnx", labels=labels)
    with pytest.raises(ModelError, match="plain class names"):
        Classifier(path)


def test_graph_whose_input_does_not_fit_its_metadata_is_refused(tmp_path):
    path = write_linear_model(tmp_path / "narrow.onnx", n_in=10)
    with pytest.raises(
        ModelError, match="takes 10 values per utterance but its metadata names 880"
    ):
        Classifier(path)

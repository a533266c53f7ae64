"""Export round-trip: metadata, probabilities, temperature, Classifier loading and refusal."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from tools import require_module

from streamer import features
from streamer.model.classifier import Classifier, ModelError
from training.data.dataset import TrainData
from training.evaluation import metrics as evaluate
from training.export import onnx_model as export
from training.models.sklearn_models import SklearnTrainer

LABELS = ("neutral", "happy", "sad", "angry")


def _train_data(rng: np.random.Generator, n: int = 160) -> TrainData:
    d = len(features.FEATURE_NAMES)
    y = np.arange(n) % len(LABELS)
    x = rng.standard_normal((n, d)).astype(np.float32) + y[:, None] * 0.3
    return TrainData(
        vectors=x,
        frames=None,
        y=y,
        group=np.arange(n) % 4,
        is_aug=np.zeros(n, bool),
        n_classes=len(LABELS),
    )


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(5)
    data = _train_data(rng)
    return SklearnTrainer(kind="logreg", seed=0, inner_folds=2, grid=(0.1,)).fit(data), data


def _write(tmp_path: Path, model, **extra) -> Path:
    meta = export.metadata(LABELS, "vector", 0.61, 0.63, cv_method="test", folds="4", **extra)
    path = tmp_path / "m.onnx"
    export.save(export.finish(model.to_onnx(), meta, model.temperature), path)
    return path


def test_round_trip_metadata_and_probabilities(tmp_path: Path, fitted) -> None:
    model, data = fitted
    path = _write(tmp_path, model, cross_corpus={"ravdess->emodb": {"ua": 0.4}})
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["labels"]) == list(LABELS)
    assert meta["feature_spec"] == features.feature_spec()
    assert meta["feature_version"] == features.FEATURE_VERSION
    assert meta["input_kind"] == "vector" and meta["sample_rate"] == "16000"
    assert float(meta["cv_ua"]) == pytest.approx(0.61)
    assert json.loads(meta["cross_corpus"])["ravdess->emodb"]["ua"] == 0.4
    assert [o.name for o in proto.graph.output] == ["probabilities"]

    onnx_probs = export.run(path, data.vectors[:20])
    assert onnx_probs.shape == (20, len(LABELS))
    assert np.allclose(onnx_probs.sum(axis=1), 1.0, atol=1e-5)
    # the graph applies the same temperature as the Python side
    expected = evaluate.apply_temperature(
        model.predict_raw(data.vectors[:20], None), model.temperature
    )
    assert np.allclose(onnx_probs, expected, atol=1e-4)


def test_classifier_loads_and_predicts(tmp_path: Path, fitted) -> None:
    path = _write(tmp_path, fitted[0])
    clf = Classifier(path)
    assert clf.labels == LABELS
    t = np.arange(16000 * 2) / 16000
    probs = clf.predict((0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32))
    assert probs.shape == (len(LABELS),) and probs.sum() == pytest.approx(1.0)


def test_mismatched_feature_spec_is_refused(tmp_path: Path, fitted) -> None:
    model = fitted[0]
    meta = export.metadata(LABELS, "vector", 0.5, 0.5)
    meta["feature_spec"] = json.dumps({"name": "ser-live-features", "version": "0-old"})
    path = tmp_path / "old.onnx"
    export.save(export.finish(model.to_onnx(), meta, model.temperature), path)
    with pytest.raises(ModelError, match="retrain"):
        Classifier(path)


def test_frames_model_round_trip(tmp_path: Path) -> None:
    require_module("torch", "torch")
    from training.models.torch_models import CNNConfig, TorchTrainer

    rng = np.random.default_rng(0)
    d = len(features.FRAME_FEATURE_NAMES)
    n = 24
    y = np.arange(n) % len(LABELS)
    frames = [rng.standard_normal((60 + 5 * i, d)).astype(np.float32) + y[i] for i in range(n)]
    data = TrainData(
        vectors=np.zeros((n, 1), np.float32),
        frames=frames,
        y=y,
        group=np.arange(n) % 3,
        is_aug=np.zeros(n, bool),
        n_classes=len(LABELS),
    )
    cfg = CNNConfig(channels=(8, 8, 8), epochs=2, batch_size=8, crop_frames=50)
    model = TorchTrainer(seed=0, config=cfg, threads=1).fit(data)
    meta = export.metadata(LABELS, "frames", 0.5, 0.5)
    path = tmp_path / "cnn.onnx"
    export.save(export.finish(model.to_onnx(), meta, model.temperature), path)
    for length in (37, 400):  # dynamic time axis
        batch = rng.standard_normal((1, length, d)).astype(np.float32)
        got = export.run(path, batch)
        want = evaluate.apply_temperature(
            model.predict_raw(np.zeros((1, 1)), [batch[0]]), model.temperature
        )
        assert np.allclose(got, want, atol=1e-4)
    clf = Classifier(path)
    assert clf.info.input_kind == "frames"
    assert clf.predict(rng.standard_normal(16000).astype(np.float32) * 0.1).sum() == pytest.approx(
        1
    )


def test_blend_members_and_weights_round_trip(tmp_path: Path) -> None:
    """linear + PCA/RBF-SVM blend: the ONNX graph matches Python for every SVM share, including
    the one-member ends (0 = linear only, 1 = SVM only)."""
    from training.models.sklearn_models import SklearnModel, fit_blend

    rng = np.random.default_rng(1)
    base = _train_data(rng, n=120)
    data = TrainData(
        vectors=base.vectors,
        frames=None,
        y=base.y,
        group=base.group,
        is_aug=np.arange(120) >= 80,  # the last third are "augmented copies"
        n_classes=len(LABELS),
    )
    for share in (0.0, 0.5, 1.0):
        estimator = fit_blend(0.1, 3.0, share, 0, data, 0.25)
        n_members = len(estimator.named_steps["classifier"].estimators_)
        assert n_members == {0.0: 2, 0.5: 3, 1.0: 1}[share]
        model = SklearnModel(estimator, len(LABELS), 1.3, {})
        path = _write(tmp_path, model)
        want = evaluate.apply_temperature(model.predict_raw(data.vectors[:16], None), 1.3)
        assert np.allclose(export.run(path, data.vectors[:16]), want, atol=1e-4)


def test_blend_trainer_selects_on_inner_folds() -> None:
    rng = np.random.default_rng(2)
    data = _train_data(rng, n=96)
    model = SklearnTrainer(kind="blend", seed=0, inner_folds=2, grid=(0.1,), svm_grid=(3.0,)).fit(
        data
    )
    assert model.params["svm_weight"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    assert model.params["C_linear"] == 0.1 and model.params["C_svm"] == 3.0
    assert model.temperature > 0
    assert model.predict_raw(data.vectors[:5], None).shape == (5, len(LABELS))


def test_trainer_picks_the_setting_that_wins_on_inner_folds() -> None:
    """Unbalanced classes: a near-zero C predicts the majority class (inner UA ~0.25), C=1 reads
    the features. A trainer that picked the worse setting (or ignored the folds) fails here."""
    rng = np.random.default_rng(3)
    n, d = 200, len(features.FEATURE_NAMES)
    y = np.where(np.arange(n) < 90, 0, 1 + np.arange(n) % 3)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x[:, :8] += 1.5 * y[:, None]
    data = TrainData(x, None, y, np.arange(n) % 4, np.zeros(n, bool), len(LABELS))
    for grid in ((1e-6, 1.0), (1.0, 1e-6)):
        model = SklearnTrainer(kind="logreg", seed=0, inner_folds=2, grid=grid).fit(data)
        assert model.params["hyper"] == 1.0
        assert model.params["inner_ua"] > 0.4  # the near-zero C scores ~0.25

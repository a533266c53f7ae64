"""A new model type is one module plus one registry line; ser-train, its help and the exported
model take it from there. Shown with a toy: nearest class mean in the normalised space."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from streamer.model.classifier import Classifier
from training import cli
from training.models import registry


@dataclass
class CentroidModel:
    means: np.ndarray  # (classes, features)
    input_kind: str = "vector"
    temperature: float = 1.0
    params: dict = field(default_factory=lambda: {"kind": "centroid"})

    def predict_raw(self, vectors: np.ndarray, frames=None) -> np.ndarray:  # noqa: ANN001
        scores = vectors @ self.means.T - 0.5 * (self.means**2).sum(axis=1)
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def to_onnx(self) -> onnx.ModelProto:
        n, d = self.means.shape
        weights = numpy_helper.from_array(self.means.T.astype(np.float32), "w")
        bias = numpy_helper.from_array((-0.5 * (self.means**2).sum(1)).astype(np.float32), "b")
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["input", "w"], ["s"]),
             helper.make_node("Add", ["s", "b"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)],
            "centroid",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, d])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n])],
            [weights, bias],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@dataclass
class CentroidTrainer:
    name: str = "centroid"
    input_kind: str = "vector"

    def fit(self, data) -> CentroidModel:  # noqa: ANN001
        return CentroidModel(np.array([data.vectors[data.y == k].mean(axis=0)
                                       for k in range(data.n_classes)]))


TOY = registry.ModelType(
    "centroid", "nearest class mean (a test's toy)", (), (),
    lambda spec, seed, smoke, threads, grid: CentroidTrainer(),
)


def test_a_registered_model_type_is_offered_and_built(monkeypatch) -> None:
    monkeypatch.setitem(registry.MODEL_TYPES, "centroid", TOY)  # the one registry line
    assert "centroid: nearest class mean" in cli.build_parser().format_help()
    assert registry.make_trainer("centroid", seed=0, smoke=True).name == "centroid"


@pytest.mark.corpus
@pytest.mark.slow
def test_a_registered_model_type_trains_exports_and_loads(
    monkeypatch, emodb_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setitem(registry.MODEL_TYPES, "centroid", TOY)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "toy.onnx"
    args = ["--data-dir", str(emodb_dir.parent), "--corpora", "emodb", "--smoke", "--quiet",
            "--frontend", "functionals", "--model-type", "centroid", "--output", str(out)]
    assert cli.main(args) == 0
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["model_type"] == "centroid" and "--model-type centroid" in out.with_suffix(
        ".md").read_text()
    assert Classifier(out).labels == tuple(json.loads(meta["labels"]))

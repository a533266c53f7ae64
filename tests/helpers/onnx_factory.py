"""Builds small, valid ser-live ONNX models for tests (softmax of a linear map)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from streamer import features

LABELS = ("neutral", "happy", "sad", "angry")


def write_linear_model(
    path: Path,
    labels: tuple[str, ...] = LABELS,
    feature_spec: str | None = None,
    drop_metadata: tuple[str, ...] = (),
    seed: int = 0,
    extra: dict[str, str] | None = None,
    n_in: int | None = None,
    scale: float = 0.01,
) -> Path:
    """``extra`` adds (or replaces) metadata; ``n_in`` sets the graph's input width (default:
    the full utterance vector)."""
    n_in = n_in if n_in is not None else len(features.FEATURE_NAMES)
    rng = np.random.default_rng(seed)
    weights = numpy_helper.from_array(
        (scale * rng.standard_normal((n_in, len(labels)))).astype(np.float32), "W"
    )
    bias = numpy_helper.from_array(np.zeros(len(labels), dtype=np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "W"], ["logits0"]),
            helper.make_node("Add", ["logits0", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "linear",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(labels)])],
        initializer=[weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    metadata = {
        "labels": json.dumps(list(labels)),
        "feature_spec": feature_spec if feature_spec is not None else features.feature_spec(),
        "feature_version": features.FEATURE_VERSION,
        "sample_rate": str(features.SAMPLE_RATE),
        "input_kind": "vector",
        "cv_ua": "0.5",
        "cv_wa": "0.5",
    }
    metadata.update(extra or {})
    for key in drop_metadata:
        metadata.pop(key)
    onnx.helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path

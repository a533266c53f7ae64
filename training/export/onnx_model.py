"""ONNX export: graph with a ``probabilities`` output, optional temperature, ser-live metadata."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from streamer import features
from streamer.model.classifier import PROBABILITIES_OUTPUT

TARGET_OPSET = 17


def metadata(
    labels: tuple[str, ...],
    input_kind: str,
    cv_ua: float,
    cv_wa: float,
    frontend: Any = None,
    **extra: Any,
) -> dict[str, str]:
    """The metadata_props a ser-live model carries, plus any extra figures (as text).
    ``frontend``: the front-end the vectors came from (default: the functionals)."""
    if frontend is None:
        from streamer.model.frontends.functionals import Functionals

        frontend = Functionals()
    meta = {
        "labels": json.dumps(list(labels)),
        "feature_spec": frontend.spec,
        "feature_version": features.FEATURE_VERSION,
        "sample_rate": str(features.SAMPLE_RATE),
        "input_kind": input_kind,
        "cv_ua": f"{cv_ua:.4f}",
        "cv_wa": f"{cv_wa:.4f}",
        **frontend.to_metadata(),
    }
    for key, value in extra.items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    return meta


def with_temperature(model: onnx.ModelProto, temperature: float) -> onnx.ModelProto:
    """Replace output p by softmax(log(p) / T): temperature scaling fitted on inner folds."""
    if abs(temperature - 1.0) < 1e-6:
        return model
    graph = model.graph
    out = next(o for o in graph.output if o.name == PROBABILITIES_OUTPUT)
    raw = "probabilities_uncalibrated"
    for node in graph.node:
        node.input[:] = [raw if name == PROBABILITIES_OUTPUT else name for name in node.input]
        node.output[:] = [raw if name == PROBABILITIES_OUTPUT else name for name in node.output]
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "temp_eps"),
            numpy_helper.from_array(
                np.array(1.0 / temperature, dtype=np.float32), "inv_temperature"
            ),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Max", [raw, "temp_eps"], ["temp_clipped"]),
            helper.make_node("Log", ["temp_clipped"], ["temp_log"]),
            helper.make_node("Mul", ["temp_log", "inv_temperature"], ["temp_scaled"]),
            helper.make_node("Softmax", ["temp_scaled"], [PROBABILITIES_OUTPUT], axis=-1),
        ]
    )
    del graph.output[:]
    graph.output.append(out)
    return model


def keep_only_probabilities(model: onnx.ModelProto) -> onnx.ModelProto:
    outputs = [o for o in model.graph.output if o.name == PROBABILITIES_OUTPUT]
    if not outputs:
        raise ValueError(f"graph has no '{PROBABILITIES_OUTPUT}' output")
    del model.graph.output[:]
    model.graph.output.extend(outputs)
    out = model.graph.output[0]
    out.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def prune(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop nodes the outputs do not need (e.g. the label branch) and unread initializers."""
    needed = {o.name for o in model.graph.output}
    kept = []
    for node in reversed(model.graph.node):  # nodes are topologically sorted
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(node.input)
    del model.graph.node[:]
    model.graph.node.extend(reversed(kept))
    used = {name for node in model.graph.node for name in node.input}
    keep = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    return model


def finish(
    model: onnx.ModelProto, meta: dict[str, str], temperature: float = 1.0
) -> onnx.ModelProto:
    model = prune(with_temperature(keep_only_probabilities(model), temperature))
    del model.metadata_props[:]
    helper.set_model_props(model, meta)
    model.producer_name = "ser-live training"
    onnx.checker.check_model(model)
    return model


def sklearn_to_onnx(estimator: Any, n_features: int) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    with warnings.catch_warnings():
        # skl2onnx reads SVC.probA_/probB_, deprecated (with probability=True) in scikit-learn 1.9
        warnings.simplefilter("ignore", FutureWarning)
        return convert_sklearn(
            estimator,
            initial_types=[("input", FloatTensorType([None, n_features]))],
            options={id(final): {"zipmap": False}},
            target_opset={"": TARGET_OPSET, "ai.onnx.ml": 3},
        )


def save(model: onnx.ModelProto, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)  # readers (the live app) never see half a file


def run(path: Path | str, batch: np.ndarray) -> np.ndarray:
    """Probabilities from an exported file (for tests and the speed measurement)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run([PROBABILITIES_OUTPUT], {name: batch.astype(np.float32)})[0]

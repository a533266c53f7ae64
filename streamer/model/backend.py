"""The ONNX graph: normalised utterance vectors (or frame matrices) in, probabilities out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamer.errors import ModelError, reason
from streamer.model.metadata import ModelInfo

PROBABILITIES_OUTPUT = "probabilities"


def load_session(path: Path, origin: str) -> object:
    """An onnxruntime session on one CPU thread: the audio path must not compete with it."""
    import onnxruntime as ort

    if not path.is_file():
        raise ModelError(f"model not found: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"{origin}: cannot load ONNX model ({reason(exc)})") from None


def read_metadata(path: Path | str) -> tuple[object, dict[str, str]]:
    """(session, metadata) of an ONNX model file."""
    path = Path(path)
    session = load_session(path, str(path))
    return session, dict(session.get_modelmeta().custom_metadata_map)  # type: ignore[attr-defined]


class OnnxBackend:
    """The model's graph: normalised vectors (or frame matrices) in, probabilities out."""

    def __init__(self, session: object, info: ModelInfo, path: Path) -> None:
        self._session = session
        self.info = info
        self.path = path
        origin = str(path)
        outputs = [o.name for o in self._session.get_outputs()]
        if PROBABILITIES_OUTPUT not in outputs:
            raise ModelError(f"{origin}: graph has no '{PROBABILITIES_OUTPUT}' output")
        model_input = self._session.get_inputs()[0]
        self._input_name = model_input.name
        width = model_input.shape[-1] if model_input.shape else None
        vector_model = self.info.input_kind == "vector" and isinstance(width, int)
        if vector_model and width != len(self.info.columns):
            raise ModelError(
                f"{origin}: graph takes {width} values per utterance but its metadata "
                f"names {len(self.info.columns)} feature columns"
            )

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, D) vectors or (N, T, D) frames -> (N, n_labels) probabilities, rows summing to 1."""
        try:
            (probs,) = self._session.run(
                [PROBABILITIES_OUTPUT], {self._input_name: batch.astype(np.float32)}
            )
        except Exception as exc:  # a graph that does not fit its own metadata
            why = reason(exc)
            raise ModelError(f"{self.path}: model failed on its input ({why})") from None
        probs = np.asarray(probs, dtype=np.float64).reshape(len(batch), -1)
        n_labels = len(self.info.labels)
        if probs.shape[1] != n_labels:
            raise ModelError(
                f"{self.path}: model returned {probs.shape[1]} probabilities for {n_labels} labels"
            )
        # A broken graph must not pass for a plausible label (NaN once became "neutral 0.25").
        if not np.all(np.isfinite(probs)) or np.any(probs.sum(axis=1) <= 0):
            raise ModelError(f"{self.path}: model gave non-finite or all-zero probabilities")
        probs = np.clip(probs, 0.0, None)
        return probs / probs.sum(axis=1, keepdims=True)

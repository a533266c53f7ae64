"""The ONNX graph: normalised utterance vectors (or frame matrices) in, probabilities out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamer.model.metadata import ModelError, ModelInfo, check_compatible, parse_metadata

PROBABILITIES_OUTPUT = "probabilities"


class OnnxBackend:
    """onnxruntime on one CPU thread: the model is tiny and the audio path must not compete."""

    def __init__(self, path: Path | str) -> None:
        import onnxruntime as ort

        path = Path(path)
        origin = str(path)
        if not path.is_file():
            raise ModelError(f"model not found: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise ModelError(f"{origin}: cannot load ONNX model ({first_line})") from None
        meta = self._session.get_modelmeta().custom_metadata_map
        self.info: ModelInfo = parse_metadata(meta, origin)
        check_compatible(self.info, origin)
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
        self.path = path

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, D) vectors or (N, T, D) frames -> (N, n_labels) probabilities, rows summing to 1."""
        try:
            (probs,) = self._session.run(
                [PROBABILITIES_OUTPUT], {self._input_name: batch.astype(np.float32)}
            )
        except Exception as exc:  # a graph that does not fit its own metadata
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            raise ModelError(f"{self.path}: model failed on its input ({first_line})") from None
        probs = np.asarray(probs, dtype=np.float64).reshape(len(batch), -1)
        n_labels = len(self.info.labels)
        if probs.shape[1] != n_labels:
            raise ModelError(
                f"{self.path}: model returned {probs.shape[1]} probabilities for {n_labels} labels"
            )
        probs = np.clip(np.nan_to_num(probs, nan=0.0), 0.0, None)
        total = probs.sum(axis=1, keepdims=True)
        uniform = np.full_like(probs, 1.0 / n_labels)
        return np.where(total > 0, probs / np.where(total > 0, total, 1.0), uniform)

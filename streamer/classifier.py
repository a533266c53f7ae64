"""ONNX emotion classifier: loads a model, checks its metadata against the running extractor.

A ser-live model is an ONNX file whose ``metadata_props`` carry (all values are text):

- ``labels``: JSON list of class names, in the order of the probability columns
- ``feature_spec``: :func:`streamer.features.feature_spec` of the extractor it was trained with
- ``feature_version``: the extractor version alone (for people reading the file)
- ``sample_rate``: audio rate in Hz the features assume
- ``input_kind``: ``vector`` (one utterance vector, shape (N, D)) or ``frames`` ((N, T, D))
- ``cv_ua`` / ``cv_wa``: speaker-independent cross-validated unweighted/weighted accuracy
- any further figures (``cv_method``, cross-corpus results ...) are carried along untouched.

The graph must output a float tensor named ``probabilities`` of shape (N, len(labels)).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from streamer import features

PROBABILITIES_OUTPUT = "probabilities"
REQUIRED_METADATA = ("labels", "feature_spec", "sample_rate", "input_kind", "cv_ua", "cv_wa")


class ModelError(RuntimeError):
    """The model file is missing, unreadable or does not fit this version of ser-live."""


@dataclass(frozen=True)
class ModelInfo:
    labels: tuple[str, ...]
    feature_spec: str
    sample_rate: int
    input_kind: str
    cv_ua: float
    cv_wa: float
    metadata: dict[str, str] = field(default_factory=dict)


def parse_metadata(metadata: dict[str, str], origin: str) -> ModelInfo:
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise ModelError(f"{origin}: not a ser-live model (metadata lacks {', '.join(missing)})")
    try:
        labels = tuple(json.loads(metadata["labels"]))
        info = ModelInfo(
            labels=labels,
            feature_spec=metadata["feature_spec"],
            sample_rate=int(metadata["sample_rate"]),
            input_kind=metadata["input_kind"],
            cv_ua=float(metadata["cv_ua"]),
            cv_wa=float(metadata["cv_wa"]),
            metadata=dict(metadata),
        )
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{origin}: malformed ser-live metadata ({exc})") from None
    if len(labels) < 2 or not all(isinstance(label, str) and label for label in labels):
        raise ModelError(f"{origin}: metadata 'labels' must list at least two class names")
    if info.input_kind not in ("vector", "frames"):
        raise ModelError(f"{origin}: unknown input_kind {info.input_kind!r}")
    return info


def check_compatible(info: ModelInfo, origin: str) -> None:
    """Refuse a model trained on other features: its numbers would be silently wrong."""
    running = features.feature_spec()
    if info.feature_spec != running:
        theirs = _spec_version(info.feature_spec)
        ours = _spec_version(running)
        raise ModelError(
            f"{origin}: model was trained with feature spec {theirs}, this ser-live extracts "
            f"{ours}; retrain it with `ser-train` or use a matching model"
        )
    if info.sample_rate != features.SAMPLE_RATE:
        raise ModelError(
            f"{origin}: model expects {info.sample_rate} Hz audio, the extractor produces "
            f"{features.SAMPLE_RATE} Hz"
        )


def _spec_version(spec: str) -> str:
    """``name vVERSION #digest``; the digest tells specs apart even if a version was not bumped."""
    digest = hashlib.sha1(spec.encode()).hexdigest()[:8]
    try:
        parsed = json.loads(spec)
        return f"{parsed.get('name', '?')} v{parsed.get('version', '?')} #{digest}"
    except (ValueError, AttributeError):
        return f"(unreadable spec) #{digest}"


class Classifier:
    """Per-utterance probabilities from an ONNX model (onnxruntime, one CPU thread)."""

    def __init__(self, path: Path | str) -> None:
        import onnxruntime as ort

        path = Path(path)
        origin = str(path)
        if not path.is_file():
            raise ModelError(f"model not found: {path}")
        options = ort.SessionOptions()
        # One thread: the model is tiny and the audio path must not compete for cores.
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
        self.info = parse_metadata(meta, origin)
        check_compatible(self.info, origin)
        outputs = [o.name for o in self._session.get_outputs()]
        if PROBABILITIES_OUTPUT not in outputs:
            raise ModelError(f"{origin}: graph has no '{PROBABILITIES_OUTPUT}' output")
        self._input_name = self._session.get_inputs()[0].name
        self.path = path
        # One throw-away prediction: onnxruntime and the extractor's caches warm up here rather
        # than on the first utterance, whose row would otherwise come a few ms late.
        self.predict(np.zeros(features.SAMPLE_RATE // 2, dtype=np.float32))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.info.labels

    def predict(self, samples: np.ndarray) -> np.ndarray:
        """Class probabilities (sum 1) for one utterance of 16 kHz mono samples."""
        if self.info.input_kind == "vector":  # only what the model reads is computed
            batch = features.extract_vector(samples)[None, :]
        else:
            batch = features.frame_features(samples)[None, :, :]
        (probs,) = self._session.run([PROBABILITIES_OUTPUT], {self._input_name: batch})
        probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        if probs.shape[0] != len(self.labels):
            raise ModelError(
                f"{self.path}: model returned {probs.shape[0]} probabilities "
                f"for {len(self.labels)} labels"
            )
        probs = np.clip(probs, 0.0, None)
        total = probs.sum()
        return probs / total if total > 0 else np.full(len(probs), 1.0 / len(probs))

"""The metadata a ser-live model carries (ONNX ``metadata_props``, all values text).

Required:

- ``labels``: JSON list of plain class names (letters, digits, ``_``/``-``), in the
  order of the probability columns; anything else is refused, because labels reach CSV, HTML
  and the terminal
- ``feature_spec``: :func:`streamer.features.feature_spec` of the extractor it was trained with
- ``sample_rate``: audio rate in Hz the features assume
- ``input_kind``: ``vector`` (one utterance vector, shape (N, D)) or ``frames`` ((N, T, D))
- ``cv_ua`` / ``cv_wa``: speaker-independent cross-validated unweighted/weighted accuracy

Optional (models from before the stream normaliser lack them and run as they were trained):

- ``frontend``: the front-end that makes the utterance vector (:mod:`streamer.model.frontends`;
  default ``functionals``)
- ``columns``: JSON list of the utterance-vector names the graph reads, in order (default: all)
- ``normaliser``: JSON :class:`~streamer.model.normaliser.NormaliserParams`
- ``speech_gate``: JSON of a :mod:`~streamer.model.speech_gate` gate (ranges or linear)
- ``uncertain_below``: confidence under which a label is shown as uncertain, chosen on
  held-out corpora
- ``partial_temperature``: provisional results (over an utterance still being spoken) are
  softened by this further temperature, fitted on held-out corpora, so they never claim more
  than finals do (default 1)
- anything else (``loco_ua_*``, ``gain_flips``, ...) is carried along untouched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from streamer import features
from streamer.errors import ModelError
from streamer.model.normaliser import NormaliserParams
from streamer.model.speech_gate import Gate, gate_from_json
from streamer.results import PLAIN_LABEL

REQUIRED_METADATA = ("labels", "feature_spec", "sample_rate", "input_kind", "cv_ua", "cv_wa")




@dataclass(frozen=True)
class ModelInfo:
    labels: tuple[str, ...]
    feature_spec: str
    sample_rate: int
    input_kind: str
    cv_ua: float
    cv_wa: float
    columns: tuple[int, ...]  # positions in the utterance vector the graph reads
    frontend: str = "functionals"
    normaliser: NormaliserParams | None = None
    speech_gate: Gate | None = None
    uncertain_below: float | None = None
    partial_temperature: float = 1.0
    metadata: dict[str, str] = field(default_factory=dict)


def _columns(metadata: dict[str, str], names: tuple[str, ...], origin: str) -> tuple[int, ...]:
    if "columns" not in metadata:
        return tuple(range(len(names)))
    wanted = json.loads(metadata["columns"])
    position = {name: i for i, name in enumerate(names)}
    unknown = [name for name in wanted if name not in position]
    if unknown or not wanted:
        raise ModelError(
            f"{origin}: model reads feature columns this extractor lacks ({unknown[:3]})"
        )
    return tuple(position[name] for name in wanted)


def parse_metadata(
    metadata: dict[str, str], origin: str, names: tuple[str, ...] | None = None
) -> ModelInfo:
    """The metadata, checked. ``names``: every column of the front-end's vector (default: the
    functionals')."""
    names = features.FEATURE_NAMES if names is None else names
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise ModelError(f"{origin}: not a ser-live model (metadata lacks {', '.join(missing)})")
    try:
        labels = json.loads(metadata["labels"])
        if not isinstance(labels, list):
            raise ValueError("labels must be a JSON list")
        if len(labels) < 2 or not all(
            isinstance(x, str) and PLAIN_LABEL.fullmatch(x) for x in labels
        ):
            raise ModelError(
                f"{origin}: metadata 'labels' must list at least two plain class names "
                "(letters, digits, '_' or '-', starting with a letter, at most 40 characters)"
            )
        if len(set(labels)) != len(labels):
            raise ModelError(f"{origin}: metadata 'labels' names a class twice")
        input_kind = metadata["input_kind"]
        if input_kind not in ("vector", "frames"):
            raise ModelError(f"{origin}: unknown input_kind {input_kind!r}")
        columns = _columns(metadata, names, origin) if input_kind == "vector" else ()
        normaliser = gate = None
        if "normaliser" in metadata and input_kind == "vector":
            normaliser = NormaliserParams.from_json(metadata["normaliser"], len(columns))
        if "speech_gate" in metadata and input_kind == "vector":
            gate = gate_from_json(metadata["speech_gate"], len(names))
        uncertain = metadata.get("uncertain_below")
        info = ModelInfo(
            labels=tuple(labels),
            feature_spec=metadata["feature_spec"],
            sample_rate=int(metadata["sample_rate"]),
            input_kind=input_kind,
            cv_ua=float(metadata["cv_ua"]),
            cv_wa=float(metadata["cv_wa"]),
            columns=columns,
            frontend=metadata.get("frontend", "functionals"),
            normaliser=normaliser,
            speech_gate=gate,
            uncertain_below=float(uncertain) if uncertain is not None else None,
            partial_temperature=float(metadata.get("partial_temperature", "1")),
            metadata=dict(metadata),
        )
    except ModelError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{origin}: malformed ser-live metadata ({exc})") from None
    if info.uncertain_below is not None and not 0.0 <= info.uncertain_below <= 1.0:
        raise ModelError(f"{origin}: metadata 'uncertain_below' must lie in 0..1")
    if not 0.05 <= info.partial_temperature <= 100.0:
        raise ModelError(f"{origin}: metadata 'partial_temperature' must lie in 0.05..100")
    return info


def check_compatible(info: ModelInfo, origin: str, running: str | None = None) -> None:
    """Refuse a model trained on other features: its numbers would be silently wrong.
    ``running``: the spec of the front-end this ser-live has (default: the functionals')."""
    running = features.feature_spec() if running is None else running
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

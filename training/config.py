"""What a training run is asked to do (RunConfig) and what it found (RunReport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.data.frontend import FUNCTIONALS, FrontendChoice
from training.data.labels import LabelPlan
from training.data.manifest import Source

DEFAULT_FEATURE_SET = "all"
DEFAULT_MODEL_TYPE = "logreg"


@dataclass
class RunConfig:
    data_dir: Path
    corpora: list[str]
    folds: int
    seed: int
    output: Path
    cache_dir: Path | None
    model_type: str = DEFAULT_MODEL_TYPE
    feature_set: str = DEFAULT_FEATURE_SET
    frontend: FrontendChoice = FUNCTIONALS
    regularisation: float | None = None  # the model type's C (or alpha), instead of its grid
    prep: Any = None  # training.data.audio.Preparation: the [vad]/[segmenter] clips are cut with
    settings: Any = None  # streamer.settings.Settings the held-out calls are replayed with
    normalise: str = "stream"  # "stream": per-corpus / per-call statistics; "global": training's
    prior_weight: float = 20.0  # the normaliser's training prior, in utterances
    speech_gate: str = "auto"  # "ranges", "linear", "none"; auto: ranges for functionals
    n_aug: int = 2
    smoke: bool = False
    cross_corpus: bool = True  # leave-one-corpus-out tests (clip and call level)
    degraded_calls: bool = True  # also through a telephone channel and in babble
    command: str = ""
    workers: int = 2
    threads: int = 2
    show_progress: bool = True
    split: str = "speaker"  # "random": the tutorials' leaky split, for comparison only
    sources: list[Source] = field(default_factory=list)  # --manifest / --folder clips
    plan: LabelPlan = field(default_factory=LabelPlan)  # --labels / --map


@dataclass
class RunReport:
    config: RunConfig
    labels: tuple[str, ...]
    n_clips: dict[str, int]
    cv: Any  # training.evaluation.metrics.CVResult
    per_corpus_ua: dict[str, float]
    held_out: list[Any]  # training.evaluation.loco.HeldOut, one per corpus
    calibration: Any  # training.evaluation.calibration.Calibration
    final_params: dict[str, Any]
    model_bytes: int
    inference_ms: dict[str, float]
    wall_s: float
    metadata: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    gain_flips: dict[str, Any] = field(default_factory=dict)  # held-out corpus -> GainFlips
    non_speech: Any = None
    gate: dict[str, Any] = field(default_factory=dict)  # what the speech gate keeps and refuses
    data: dict[str, Any] = field(default_factory=dict)  # what the model saw (card, metadata)
    frontend_file: Path | None = None  # the encoder file shipped beside the model, if any

    @property
    def temperature(self) -> float:
        return float(self.calibration.temperature)

    @property
    def uncertain_below(self) -> float | None:
        return self.calibration.uncertain_below

"""Every model type ``ser-train`` can build, in one table: its help text, its search grid and the
smaller grid of a smoke run. The command line, the trainer factory and the card read it.

A new model type is one module defining a :class:`ModelType` (its ``make`` imports the heavy
libraries only when called, so ``ser-train --help`` stays light) plus one line in
:data:`MODEL_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the table itself must import without scikit-learn (ser-train --help)
    from training.models.trainer import Trainer


@dataclass(frozen=True)
class ModelType:
    name: str
    help: str
    grid: tuple[float, ...]  # searched on inner speaker-grouped folds
    smoke_grid: tuple[float, ...]
    make: Callable[[ModelType, int, bool, int, tuple[float, ...]], Trainer]


def _sklearn(kind: str) -> Callable[[ModelType, int, bool, int, tuple[float, ...]], Trainer]:
    def make(spec: ModelType, seed: int, smoke: bool, threads: int, grid: tuple) -> Trainer:
        from training.models.sklearn_models import GRIDS, SklearnTrainer

        return SklearnTrainer(
            kind=kind,
            seed=seed,
            inner_folds=2 if smoke else 3,
            grid=grid,
            svm_grid=(3.0,) if smoke else GRIDS["svm"],
        )

    return make


def _torch(ensemble: bool) -> Callable[[ModelType, int, bool, int, tuple[float, ...]], Trainer]:
    def make(spec: ModelType, seed: int, smoke: bool, threads: int, grid: tuple) -> Trainer:
        from training.models.torch_models import TorchTrainer

        return TorchTrainer(seed=seed, smoke=smoke, ensemble=ensemble, threads=threads)

    return make


LOGREG = ModelType(
    "logreg",
    "logistic regression on the stream-normalised vector (C=0.01 on the functionals, 0.001 on "
    "whisper-base: each chosen on leave-one-corpus-out tests, see models/README.md)",
    (0.01,),
    (0.01,),
    _sklearn("logreg"),
)
LINEAR = ModelType(
    "linear",
    "logistic regression + shrinkage LDA, C chosen on inner folds",
    (0.003, 0.01, 0.03),
    (0.01,),
    _sklearn("linear"),
)
BLEND = ModelType(
    "blend",
    "linear pair averaged with an RBF SVM on PCA components; C values and the SVM's share "
    "chosen on inner folds",
    (0.003, 0.01, 0.03),
    (0.01,),
    _sklearn("blend"),
)
MLP = ModelType(
    "mlp",
    "one-hidden-layer MLP, L2 alpha chosen on inner folds",
    (1.0, 3.0, 10.0),
    (3.0,),
    _sklearn("mlp"),
)
MLP_CLASSIC = ModelType(
    "mlp_classic",
    "the popular tutorials' MLP, untuned (300 hidden units, alpha 0.01, 500 iterations), "
    "to reproduce their recipe",
    (0.01,),
    (0.01,),
    _sklearn("mlp_classic"),
)
CNN = ModelType(
    "cnn", "frame-level CNN with attention pooling (PyTorch, CPU)", (), (), _torch(False)
)
ENSEMBLE = ModelType("ensemble", "three CNNs averaged (PyTorch, CPU)", (), (), _torch(True))
MODEL_TYPES: dict[str, ModelType] = {
    "logreg": LOGREG,
    "linear": LINEAR,
    "blend": BLEND,
    "mlp": MLP,
    "mlp_classic": MLP_CLASSIC,
    "cnn": CNN,
    "ensemble": ENSEMBLE,
}
DEFAULT_MODEL_TYPE = "logreg"


def make_trainer(
    name: str, seed: int, smoke: bool, threads: int = 2, value: float | None = None
) -> Trainer:
    """The trainer of model type ``name``; ``value`` fixes its regularisation (C or alpha)
    instead of searching its grid."""
    if name not in MODEL_TYPES:
        raise ValueError(f"unknown model type {name!r} ({', '.join(MODEL_TYPES)})")
    spec = MODEL_TYPES[name]
    grid = (value,) if value is not None else (spec.smoke_grid if smoke else spec.grid)
    return spec.make(spec, seed, smoke, threads, grid)


def help_text() -> str:
    return "; ".join(f"{t.name}: {t.help}" for t in MODEL_TYPES.values())

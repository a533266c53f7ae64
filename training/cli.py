"""``ser-train``: one command from labelled corpora to the shipped ONNX model and its model card."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from streamer.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from training.corpora import PARSERS
from training.feature_sets import DEFAULT_FEATURE_SET, FEATURE_SETS
from training.model_types import DEFAULT_MODEL_TYPE, MODEL_TYPES, help_text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ser-train",
        description="Train the ser-live emotion model with speaker-independent evaluation and "
        "write the ONNX model plus its model card (README.md next to it).",
    )
    p.add_argument("--config", type=Path, help="TOML file layered over config.toml")
    p.add_argument("--data-dir", type=Path, help="corpora root (default: data.dir / SER_DATA_DIR)")
    p.add_argument(
        "--corpora", nargs="+", metavar="NAME", help=f"corpora to train on ({', '.join(PARSERS)})"
    )
    p.add_argument("--folds", type=int, help="speaker-grouped cross-validation folds")
    p.add_argument("--seed", type=int, help="seed for folds, augmentation and models")
    p.add_argument("--output", type=Path, help="ONNX file to write")
    p.add_argument(
        "--model-type",
        default=DEFAULT_MODEL_TYPE,
        choices=tuple(MODEL_TYPES),
        help=f"{help_text()} (default: %(default)s)",
    )
    p.add_argument(
        "--feature-set",
        default=DEFAULT_FEATURE_SET,
        choices=tuple(FEATURE_SETS),
        help="utterance-vector columns the model reads: all 880, or the 152 prosodic / "
        "voice-quality functionals (default: %(default)s, chosen by leave-one-corpus-out UA)",
    )
    p.add_argument(
        "--normalise",
        default="stream",
        choices=("stream", "global"),
        help="stream: each corpus (and, live, each call) scored against its own running "
        "statistics (default); global: one scaler from the training corpora, as before",
    )
    p.add_argument(
        "--augment",
        type=int,
        default=0,
        metavar="N",
        help="augmented copies per training clip (default: %(default)s; each copy variant is "
        "normalised as a stream of its own)",
    )
    p.add_argument("--no-cross-corpus", action="store_true", help="skip RAVDESS<->EmoDB tests")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="tiny, fast run for CI (few speakers and clips, 3 folds, still grouped)",
    )
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--no-card", action="store_true", help="do not write the model card")
    p.add_argument(
        "--workers", type=int, default=2, help="feature extraction processes (default: %(default)s)"
    )
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads for the CNN")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def reproduce_command(args: argparse.Namespace, settings: Settings) -> str:
    """The run's effective choices as flags, so the card's command does not depend on config.toml
    defaults staying the same (the corpus root is left to data.dir / SER_DATA_DIR)."""
    t = settings.training
    parts = ["ser-train", "--corpora", *t.corpora, "--folds", str(t.folds), "--seed", str(t.seed)]
    parts += ["--model-type", args.model_type, "--feature-set", args.feature_set]
    parts += ["--normalise", args.normalise, "--augment", str(args.augment)]
    try:
        output = Path(t.output).resolve().relative_to(PROJECT_ROOT)
    except ValueError:
        output = Path(t.output)
    parts += ["--output", str(output)]
    if args.smoke:
        parts.append("--smoke")
    if args.no_cross_corpus:
        parts.append("--no-cross-corpus")
    return " ".join(shlex.quote(p) for p in parts)


def _fail(message: str) -> int:
    print(f"ser-train: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides = {
        "data": {"dir": str(args.data_dir) if args.data_dir else None},
        "training": {
            "corpora": args.corpora,
            "folds": args.folds,
            "seed": args.seed,
            "output": str(args.output) if args.output else None,
        },
    }
    try:
        settings = load_settings(args.config, overrides)
    except SettingsError as exc:
        return _fail(str(exc))
    t = settings.training
    data_dir = settings.data.dir
    if not data_dir.is_dir():
        return _fail(f"data folder not found: {data_dir} (set --data-dir or SER_DATA_DIR)")
    unknown = [c for c in t.corpora if c not in PARSERS]
    if unknown:
        return _fail(f"unknown corpus {unknown[0]!r} (known: {', '.join(PARSERS)})")
    if args.augment < 0 or args.workers < 1:
        return _fail("--augment must be >= 0 and --workers >= 1")

    from threadpoolctl import threadpool_limits

    from training import card
    from training.corpora import CorpusError
    from training.evaluate import EvaluationError
    from training.run import RunConfig, run

    cfg = RunConfig(
        data_dir=data_dir,
        corpora=list(t.corpora),
        folds=t.folds,
        seed=t.seed,
        output=Path(t.output),
        cache_dir=None if args.no_cache else Path(t.cache_dir),
        model_type=args.model_type,
        feature_set=args.feature_set,
        normalise=args.normalise,
        n_aug=args.augment,
        smoke=args.smoke,
        cross_corpus=not args.no_cross_corpus,
        command=reproduce_command(args, settings),
        workers=min(args.workers, os.cpu_count() or 1),
        threads=max(1, args.threads),
        show_progress=not args.quiet and sys.stderr.isatty(),
    )
    try:
        # One BLAS thread: the models are small, and OpenBLAS threads spinning against the
        # extraction processes (or a busy machine) made fits ten times slower.
        with threadpool_limits(1):
            report = run(cfg)
    except (CorpusError, EvaluationError) as exc:
        return _fail(str(exc))
    except ImportError as exc:
        return _fail(f"{exc} (install the training extras: pip install -e '.[train,torch]')")
    except KeyboardInterrupt:
        return _fail("interrupted")
    if not args.no_card:
        written = card.write(report)
        print(f"model card: {', '.join(str(p) for p in written)}")
    print(f"done in {report.wall_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

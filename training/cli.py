"""``ser-train``: one command from labelled corpora to the shipped ONNX model and its model card.

Only the standard library is imported before the arguments are checked, so ``ser-train --help``
and every usage error work without the training extra; a missing extra is named in one line.
Smoke runs and experiments never replace the shipped model by accident: without ``--output`` they
write to ``out/`` (see :func:`choose_output`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.cli_common import PrintVersion
from streamer.package import packaged_defaults
from streamer.settings import PROJECT_ROOT, ConfigError, Settings, load_settings
from streamer.sinks.output_paths import OutputError, check_writable_path
from training.data.corpora import CORPORA
from training.data.feature_sets import DEFAULT_FEATURE_SET, FEATURE_SETS
from training.models.registry import DEFAULT_MODEL_TYPE, MODEL_TYPES, help_text

if TYPE_CHECKING:
    from training.data.labels import LabelPlan
    from training.data.manifest import Source

SMOKE_OUTPUT = Path("out") / "smoke" / "ser-smoke.onnx"  # relative to the working directory
# Module a training import needs -> (what it is, the extra that installs it)
EXTRAS = {
    "sklearn": ("scikit-learn", "train"),
    "skl2onnx": ("skl2onnx", "train"),
    "onnx": ("onnx", "train"),
    "librosa": ("librosa", "train"),
    "threadpoolctl": ("threadpoolctl", "train"),
    "torch": ("PyTorch", "torch"),
}


def missing_extra_message(exc: ImportError) -> str:
    """One line naming the package that is missing and the extra that brings it."""
    module = (exc.name or "").split(".")[0]
    what, extra = EXTRAS.get(module, (module or str(exc), "train"))
    return (
        f"training needs {what}, which is not installed; install the '{extra}' extra: "
        f"pip install 'ser-live[{extra}]' (in a checkout: pip install -e '.[{extra}]')"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ser-train",
        description="Train the ser-live emotion model with speaker-independent evaluation and "
        "write the ONNX model plus its model card (README.md next to it).",
    )
    p.add_argument("--version", action=PrintVersion)
    p.add_argument("--config", type=Path, help="TOML file layered over config.toml")
    p.add_argument("--data-dir", type=Path, help="corpora root (default: data.dir / SER_DATA_DIR)")
    p.add_argument(
        "--corpora", nargs="+", metavar="NAME", help=f"corpora to train on ({', '.join(CORPORA)})"
    )
    p.add_argument(
        "--manifest",
        type=Path,
        action="append",
        metavar="CSV",
        help="your own clips: a CSV with columns path,label,speaker (optional corpus, session; "
        "paths relative to the CSV); repeatable, mixes with --corpora (which then defaults to "
        "none)",
    )
    p.add_argument(
        "--folder",
        type=Path,
        action="append",
        metavar="DIR",
        help="your own clips laid out as DIR/<label>/*.wav; needs --speaker-regex; repeatable",
    )
    p.add_argument(
        "--speaker-regex",
        metavar="RE",
        help="for --folder: searched in each file name, its one capture group is the speaker, "
        r"e.g. '^(\w+?)_' for anna_001.wav",
    )
    p.add_argument(
        "--on-unreadable",
        choices=("stop", "skip"),
        default="stop",
        help="a manifest or folder file soundfile cannot open: stop with its row, or skip it "
        "and count it (default: %(default)s)",
    )
    p.add_argument(
        "--labels", nargs="+", metavar="LABEL", help="train on these labels only (after --map)"
    )
    p.add_argument(
        "--map",
        action="append",
        metavar="OLD=NEW",
        help="rename a label, or merge labels into one (repeatable): --map calm=neutral",
    )
    p.add_argument("--folds", type=int, help="speaker-grouped cross-validation folds")
    p.add_argument(
        "--split",
        choices=("speaker", "random"),
        default="speaker",
        help="speaker: folds keep every speaker apart (default); random: the tutorials' split, "
        "speakers on both sides, figures LEAKY (output and card say so), for comparison only",
    )
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
        help="utterance-vector columns the model reads: all 880; the 152 prosodic / "
        "voice-quality functionals; or mfcc_chroma_mel, the tutorials' 65 means of MFCC, chroma "
        "and mel bands (default: %(default)s, chosen by leave-one-corpus-out UA)",
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
        default=2,
        metavar="N",
        help="augmented copies per training clip (default: %(default)s; each copy variant is "
        "normalised as a stream of its own; 2 copies raised leave-one-corpus-out UA from "
        "0.396/0.366 to 0.439/0.389)",
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


def reproduce_command(
    args: argparse.Namespace, settings: Settings, output: Path | None = None
) -> str:
    """The run's effective choices as flags, so the card's command does not depend on config.toml
    defaults staying the same (the corpus root is left to data.dir / SER_DATA_DIR)."""
    t = settings.training
    parts = ["ser-train", *(["--corpora", *t.corpora] if t.corpora else [])]
    parts += ["--folds", str(t.folds), "--seed", str(t.seed)]
    parts += ["--model-type", args.model_type, "--feature-set", args.feature_set]
    parts += ["--normalise", args.normalise, "--augment", str(args.augment)]
    written = Path(output if output is not None else t.output)
    with contextlib.suppress(ValueError):  # outside the checkout: as given
        written = written.resolve().relative_to(PROJECT_ROOT)
    parts += ["--output", str(written)]
    for manifest in args.manifest or ():
        parts += ["--manifest", str(manifest)]
    for folder in args.folder or ():
        parts += ["--folder", str(folder)]
    if args.folder:
        parts += ["--speaker-regex", args.speaker_regex]
    if args.on_unreadable != "stop":
        parts += ["--on-unreadable", args.on_unreadable]
    if args.labels:
        parts += ["--labels", *args.labels]
    for item in args.map or ():
        parts += ["--map", item]
    if args.split != "speaker":
        parts += ["--split", args.split]
    if args.smoke:
        parts.append("--smoke")
    if args.no_cross_corpus:
        parts.append("--no-cross-corpus")
    return " ".join(shlex.quote(p) for p in parts)


@dataclass(frozen=True)
class OutputChoice:
    path: Path
    default: bool  # not named by --output: the folder is made, and the note says where
    note: str = ""


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def choose_output(args: argparse.Namespace, settings: Settings) -> OutputChoice:
    """Where the model and its card go. Smoke runs and experiments never replace the shipped
    model by accident: a smoke run without --output writes out/smoke/ in the working directory,
    any other run ``training.output`` (out/train/ in the checkout); only an --output (or a
    config file) naming models/ser-default.onnx replaces it."""
    if args.output is not None:
        return OutputChoice(Path(settings.training.output), default=False)
    keep = "the shipped model is left alone (--output models/ser-default.onnx replaces it)"
    if args.smoke:
        path = Path.cwd() / SMOKE_OUTPUT
        return OutputChoice(path, True, f"smoke run: writing {SMOKE_OUTPUT} and its card; {keep}")
    path = Path(settings.training.output)
    return OutputChoice(path, True, f"writing {_shown(path)} and its card; {keep}")


def _fail(message: str) -> int:
    print(f"ser-train: error: {message}", file=sys.stderr)
    return 2


def _warn(message: str) -> None:
    print(f"ser-train: warning: {message}", file=sys.stderr)


def read_own_data(args: argparse.Namespace, plan: LabelPlan) -> list[Source]:
    """Every --manifest and --folder as clips; one line each on what was read and left out."""
    from training.data.manifest import read_folder, read_manifest

    sources = [read_manifest(m, plan, args.on_unreadable) for m in args.manifest or ()]
    sources += [
        read_folder(f, args.speaker_regex, plan, args.on_unreadable) for f in args.folder or ()
    ]
    for source in sources:
        for line in source.skipped:
            _warn(f"{line}; skipped")
        left_out = [f"{len(source.skipped)} unreadable file(s) skipped"] if source.skipped else []
        if source.dropped:
            left_out.append(
                "left out by --labels: "
                + ", ".join(f"{k} {n}" for k, n in sorted(source.dropped.items()))
            )
        suffix = f" ({'; '.join(left_out)})" if left_out else ""
        print(f"{source.name}: {len(source.clips)} clips{suffix}")
    return sources


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    own_data = bool(args.manifest or args.folder)
    if args.corpora is None and own_data:
        args.corpora = []  # your own data alone, unless --corpora adds built-in corpora
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
    except ConfigError as exc:
        return _fail(str(exc))
    choice = choose_output(args, settings)
    output = choice.path
    packaged = packaged_defaults()
    if packaged is not None and output.resolve().is_relative_to(packaged.resolve()):
        return _fail(f"{output} is inside the installed package; give --output")
    try:
        if not choice.default:  # a default folder is made below, once the run is sure to start
            check_writable_path("--output", output)
    except OutputError as exc:
        return _fail(str(exc))
    t = settings.training
    data_dir = settings.data.dir
    if t.corpora and not data_dir.is_dir():
        return _fail(f"data folder not found: {data_dir} (set --data-dir or SER_DATA_DIR)")
    unknown = [c for c in t.corpora if c not in CORPORA]
    if unknown:
        return _fail(f"unknown corpus {unknown[0]!r} (known: {', '.join(CORPORA)})")
    if args.augment < 0 or args.workers < 1:
        return _fail("--augment must be >= 0 and --workers >= 1")
    if args.folder and not args.speaker_regex:
        return _fail("--folder needs --speaker-regex (one capture group: the speaker)")
    from training.data.labels import LabelError, parse_plan
    from training.data.manifest import ManifestError

    try:
        plan = parse_plan(args.labels, args.map)
        sources = read_own_data(args, plan)
    except (LabelError, ManifestError) as exc:
        return _fail(str(exc))

    try:
        from threadpoolctl import threadpool_limits

        from training.data.audio import Preparation
        from training.data.corpora import CorpusError
        from training.evaluation import card
        from training.evaluation.metrics import EvaluationError
        from training.run import RunConfig, run
    except ImportError as exc:
        return _fail(missing_extra_message(exc))
    if choice.default:
        output.parent.mkdir(parents=True, exist_ok=True)
        print(choice.note)

    cfg = RunConfig(
        prep=Preparation(settings.vad, settings.segmenter),  # --config reaches the clip cuts
        data_dir=data_dir,
        corpora=list(t.corpora),
        folds=t.folds,
        seed=t.seed,
        output=output,
        cache_dir=None if args.no_cache else Path(t.cache_dir),
        model_type=args.model_type,
        feature_set=args.feature_set,
        normalise=args.normalise,
        n_aug=args.augment,
        smoke=args.smoke,
        cross_corpus=not args.no_cross_corpus,
        command=reproduce_command(args, settings, output),
        workers=min(args.workers, os.cpu_count() or 1),
        threads=max(1, args.threads),
        show_progress=not args.quiet and sys.stderr.isatty(),
        sources=sources,
        plan=plan,
        split=args.split,
    )
    try:
        # One BLAS thread: the models are small, and OpenBLAS threads spinning against the
        # extraction processes (or a busy machine) made fits ten times slower.
        with threadpool_limits(1):
            report = run(cfg)
    except (CorpusError, EvaluationError, LabelError) as exc:
        return _fail(str(exc))
    except ImportError as exc:
        return _fail(missing_extra_message(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    if not args.no_card:
        written = card.write(report)
        print(f"model card: {', '.join(str(p) for p in written)}")
    print(f"done in {report.wall_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

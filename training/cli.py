"""``ser-train``: one command from labelled corpora to the shipped ONNX model and its model card.

Only the standard library is imported before the arguments are checked, so ``ser-train --help``
and every usage error work without the training extra; a missing extra is named in one line.
Smoke runs and experiments never replace the shipped model by accident: without ``--output`` they
write to ``out/`` (see :mod:`training.outputs`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.cli_common import CommandParser, report, say
from streamer.errors import ConfigError, SerError
from streamer.settings import Settings, load_settings
from training.data.corpora import CORPORA
from training.data.feature_sets import FEATURE_SETS
from training.data.frontend import FRONTEND_NAMES
from training.models.registry import DEFAULT_MODEL_TYPE, MODEL_TYPES, help_text
from training.outputs import choose_output, guard_output, reproduce_command

if TYPE_CHECKING:
    from training.config import RunConfig
    from training.data.labels import LabelPlan
    from training.data.manifest import Source

PROG = "ser-train"
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


def _data_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--config", type=Path, help="TOML file layered over config.toml")
    g.add_argument("--data-dir", type=Path, help="corpora root (default: data.dir / SER_DATA_DIR)")
    g.add_argument(
        "--corpora", nargs="+", metavar="NAME", help=f"corpora to train on ({', '.join(CORPORA)})"
    )
    g.add_argument(
        "--manifest",
        type=Path,
        action="append",
        metavar="CSV",
        help="your own clips: a CSV with columns path,label,speaker (optional corpus, session; "
        "paths relative to the CSV); repeatable, mixes with --corpora (which then defaults to "
        "none)",
    )
    g.add_argument(
        "--folder",
        type=Path,
        action="append",
        metavar="DIR",
        help="your own clips laid out as DIR/<label>/*.wav; needs --speaker-regex; repeatable",
    )
    g.add_argument(
        "--speaker-regex",
        metavar="RE",
        help="for --folder: searched in each file name, its one capture group is the speaker, "
        r"e.g. '^(\w+?)_' for anna_001.wav",
    )
    g.add_argument(
        "--on-unreadable",
        choices=("stop", "skip"),
        default="stop",
        help="a manifest or folder file soundfile cannot open: stop with its row, or skip it "
        "and count it",
    )
    g.add_argument(
        "--labels", nargs="+", metavar="LABEL", help="train on these labels only (after --map)"
    )
    g.add_argument(
        "--map",
        action="append",
        metavar="OLD=NEW",
        help="rename a label, or merge labels into one (repeatable): --map calm=neutral",
    )


def _frontend_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("front-end")
    g.add_argument(
        "--frontend",
        choices=FRONTEND_NAMES,
        default="whisper-base",
        help="whisper-base: Whisper-base's encoder (first 3 of 6 blocks, int8), the shipped "
        "default; functionals: the 880 handcrafted functionals (the fast model)",
    )
    g.add_argument(
        "--encoder",
        type=Path,
        metavar="ONNX",
        help="whisper-base: the encoder file (default: models/whisper-base-b3.int8.onnx)",
    )
    g.add_argument(
        "--pooling",
        choices=("mean", "mean+std"),
        default="mean",
        help="whisper-base: the encoder's states pooled over time by their mean, or mean and "
        "standard deviation (which cost held-out corpora 2.5 points)",
    )
    g.add_argument(
        "--prosody",
        action="store_true",
        help="whisper-base: append the 152 prosodic / voice-quality functionals (computed on "
        "the levelled utterance) to the pooled encoder states",
    )



def _model_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--model-type",
        default=DEFAULT_MODEL_TYPE,
        choices=tuple(MODEL_TYPES),
        help=help_text(),
    )
    g.add_argument(
        "--regularisation",
        type=float,
        metavar="C",
        help="fix the model type's C (or an MLP's alpha) instead of its grid (default: "
        "0.001 for whisper-base, the model type's grid for functionals)",
    )
    g.add_argument(
        "--feature-set",
        default="all",
        choices=tuple(FEATURE_SETS),
        help="vector columns the model reads: all; for the functionals also the 152 prosodic "
        "/ voice-quality ones, or mfcc_chroma_mel, the tutorials' 65 means",
    )
    g.add_argument(
        "--normalise",
        default="stream",
        choices=("stream", "global"),
        help="stream: each corpus (and, live, each call) scored against its own running "
        "statistics; global: one scaler from the training corpora",
    )
    g.add_argument(
        "--prior-weight",
        type=float,
        metavar="UTTERANCES",
        help="the stream normaliser's training prior counts as this many utterances "
        "(default: 5 for whisper-base, 20 for functionals)",
    )
    g.add_argument(
        "--speech-gate",
        choices=("auto", "ranges", "linear", "none"),
        default="auto",
        help="how non-speech is kept from getting a label: ranges of 52 level-free functionals "
        "(auto for functionals; needs them in the vector), a linear score over the vector "
        "fitted against synthetic noise, hum, tones, chords and clicks (auto for whisper-base), "
        "or none",
    )
    g.add_argument(
        "--augment",
        type=int,
        default=2,
        metavar="N",
        help="augmented copies per training clip (noise, babble, reverb, phone line, gain; each "
        "copy variant is normalised as a stream of its own)",
    )


def _run_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("evaluation and output")
    g.add_argument("--folds", type=int, help="speaker-grouped cross-validation folds")
    g.add_argument(
        "--split",
        choices=("speaker", "random"),
        default="speaker",
        help="speaker: folds keep every speaker apart; random: the tutorials' split, speakers "
        "on both sides, figures LEAKY (output and card say so), for comparison only",
    )
    g.add_argument("--seed", type=int, help="seed for folds, augmentation, calls and models")
    g.add_argument("--output", type=Path, help="ONNX file to write (its folder is made)")
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --output (and its card) that ser-train did not write",
    )
    g.add_argument(
        "--no-cross-corpus",
        action="store_true",
        help="skip the leave-one-corpus-out tests (clip and call level)",
    )
    g.add_argument(
        "--no-degraded-calls",
        action="store_true",
        help="skip the held-out calls through a telephone channel and in babble",
    )
    g.add_argument(
        "--smoke", action="store_true", help="tiny, fast run for CI (few speakers and clips)"
    )
    g.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    g.add_argument("--no-card", action="store_true", help="do not write the model card")
    g.add_argument(
        "--workers", type=int, default=2, metavar="N", help="feature extraction processes"
    )
    g.add_argument(
        "--threads", type=int, default=2, metavar="N", help="PyTorch threads (cnn, ensemble)"
    )
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    p = CommandParser(
        prog=PROG,
        description="Train the ser-live emotion model with speaker-independent evaluation and "
        "leave-one-corpus-out tests replayed through the streaming engine, and write the ONNX "
        "model plus its model card (X.md next to X.onnx).",
    )
    _data_flags(p)
    _frontend_flags(p)
    _model_flags(p)
    _run_flags(p)
    return p


def load_run_settings(args: argparse.Namespace) -> Settings:
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
    return load_settings(args.config, overrides)


def check_args(args: argparse.Namespace, settings: Settings) -> None:
    """Usage that cannot work, refused in one line before anything is read."""
    t = settings.training
    if t.corpora and not settings.data.dir.is_dir():
        raise ConfigError(
            f"data folder not found: {settings.data.dir} (set --data-dir or SER_DATA_DIR)"
        )
    unknown = [c for c in t.corpora if c not in CORPORA]
    if unknown:
        raise ConfigError(f"unknown corpus {unknown[0]!r} (known: {', '.join(CORPORA)})")
    if args.augment < 0 or args.workers < 1:
        raise ConfigError("--augment must be >= 0 and --workers >= 1")
    if args.folder and not args.speaker_regex:
        raise ConfigError("--folder needs --speaker-regex (one capture group: the speaker)")
    if args.regularisation is not None and not args.regularisation > 0:
        raise ConfigError("--regularisation must be a positive number")


def read_own_data(args: argparse.Namespace, plan: LabelPlan) -> list[Source]:
    """Every --manifest and --folder as clips; one line each on what was read and left out."""
    from training.data.manifest import read_folder, read_manifest

    sources = [read_manifest(m, plan, args.on_unreadable) for m in args.manifest or ()]
    sources += [
        read_folder(f, args.speaker_regex, plan, args.on_unreadable) for f in args.folder or ()
    ]
    for source in sources:
        for line in source.skipped:
            say(f"{PROG}: warning: {line}; skipped")
        left_out = [f"{len(source.skipped)} unreadable file(s) skipped"] if source.skipped else []
        if source.dropped:
            left_out.append(
                "left out by --labels: "
                + ", ".join(f"{k} {n}" for k, n in sorted(source.dropped.items()))
            )
        suffix = f" ({'; '.join(left_out)})" if left_out else ""
        print(f"{source.name}: {len(source.clips)} clips{suffix}")
    return sources


def frontend_choice(args: argparse.Namespace):  # noqa: ANN201 (a FrontendChoice)
    from training.data.feature_sets import prosodic
    from training.data.frontend import FrontendChoice

    if args.frontend != "whisper-base":
        if args.prosody or args.pooling != "mean":
            raise ConfigError("--prosody and --pooling are for --frontend whisper-base")
        return FrontendChoice(args.frontend)
    prosody = prosodic() if args.prosody else ()
    return FrontendChoice(args.frontend, args.encoder, prosody=prosody, pooling=args.pooling)


def run_config(
    args: argparse.Namespace, settings: Settings, output: Path, sources: list, plan: object
) -> RunConfig:
    from training.config import RunConfig
    from training.data.audio import Preparation

    t = settings.training
    whisper = args.frontend == "whisper-base"
    regularisation = args.regularisation
    if regularisation is None and whisper and args.model_type in ("logreg", "linear"):
        regularisation = 0.001
    prior = args.prior_weight if args.prior_weight is not None else (5.0 if whisper else 20.0)
    return RunConfig(
        prep=Preparation(settings.vad, settings.segmenter),  # --config reaches the clip cuts
        settings=settings,
        data_dir=settings.data.dir,
        corpora=list(t.corpora),
        folds=t.folds,
        seed=t.seed,
        output=output,
        cache_dir=None if args.no_cache else Path(t.cache_dir),
        model_type=args.model_type,
        feature_set=args.feature_set,
        frontend=frontend_choice(args),
        regularisation=regularisation,
        normalise=args.normalise,
        prior_weight=prior,
        speech_gate=args.speech_gate,
        n_aug=args.augment,
        smoke=args.smoke,
        cross_corpus=not args.no_cross_corpus,
        degraded_calls=not args.no_degraded_calls,
        command=reproduce_command(args, settings, output),
        workers=min(args.workers, os.cpu_count() or 1),
        threads=max(1, args.threads),
        show_progress=not args.quiet and sys.stderr.isatty(),
        sources=sources,
        plan=plan,
        split=args.split,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_run_settings(args)
        choice = choose_output(args, settings)
        check_args(args, settings)
        guard_output(choice.path, args)
        from training.data.labels import parse_plan

        plan = parse_plan(args.labels, args.map)
        sources = read_own_data(args, plan)
        return _train(args, settings, choice, sources, plan)
    except SerError as exc:
        return report(PROG, exc)
    except ImportError as exc:
        say(f"{PROG}: error: {missing_extra_message(exc)}")
        return 2
    except KeyboardInterrupt:
        say(f"{PROG}: error: interrupted")
        return 2


def _train(args: argparse.Namespace, settings: Settings, choice, sources, plan) -> int:  # noqa: ANN001
    from threadpoolctl import threadpool_limits

    from training.card import write_card
    from training.run import run

    choice.path.parent.mkdir(parents=True, exist_ok=True)
    if choice.note:
        print(choice.note)
    cfg = run_config(args, settings, choice.path, sources, plan)
    # One BLAS thread: the models are small, and OpenBLAS threads spinning against the
    # extraction processes (or a busy machine) made fits ten times slower.
    with threadpool_limits(1):
        result = run(cfg)
    if not args.no_card:
        written = write_card(result)
        print(f"model card: {', '.join(str(p) for p in written)}")
    print(f"done in {result.wall_s:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where ser-train writes, and what it refuses to overwrite.

A run writes three files: the model (``X.onnx``), its card (``X.md``) and the confusion plot
(``X.confusion.png``), plus the front-end's encoder file beside a whisper-base model. Smoke runs
and experiments never replace the shipped model by accident: without ``--output`` a smoke run
writes ``out/smoke/`` in the working directory and any other run ``training.output``. An
existing file at any of those paths is replaced only when it is a model ser-train wrote (with
its card and plot), or with ``--overwrite``; the run's own inputs (a manifest, an audio file,
a folder of clips) are never a target.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from streamer.errors import OutputError
from streamer.package import PROJECT_ROOT, packaged_defaults
from streamer.settings import Settings

SMOKE_OUTPUT = Path("out") / "smoke" / "ser-smoke.onnx"  # relative to the working directory
PRODUCER = "ser-live training"


@dataclass(frozen=True)
class OutputChoice:
    path: Path
    default: bool  # not named by --output
    note: str = ""


def card_paths(model: Path) -> tuple[Path, Path]:
    """The card and the confusion plot written beside ``model``."""
    return model.with_suffix(".md"), model.with_name(model.stem + ".confusion.png")


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


def choose_output(args: argparse.Namespace, settings: Settings) -> OutputChoice:
    """Where the model and its card go (see the module docstring)."""
    if args.output is not None:
        return OutputChoice(Path(settings.training.output), default=False)
    keep = "the shipped model is left alone (--output models/ser-default.onnx replaces it)"
    if args.smoke:
        path = Path.cwd() / SMOKE_OUTPUT
        return OutputChoice(path, True, f"smoke run: writing {SMOKE_OUTPUT} and its card; {keep}")
    path = Path(settings.training.output)
    return OutputChoice(path, True, f"writing {_shown(path)} and its card; {keep}")


def written_by_us(model: Path) -> bool:
    """True for an ONNX model file ser-train produced (its producer says so)."""
    try:
        import onnx

        proto = onnx.load(str(model), load_external_data=False)
    except Exception:  # noqa: BLE001 (not ONNX, unreadable: not ours)
        return False
    return proto.producer_name == PRODUCER


def _inputs(args: argparse.Namespace) -> list[Path]:
    return [Path(p) for p in (args.manifest or ())] + [Path(p) for p in (args.folder or ())]


def _is_input(path: Path, inputs: list[Path]) -> bool:
    target = os.path.realpath(path)
    for given in inputs:
        real = os.path.realpath(given)
        if target == real or (Path(given).is_dir() and target.startswith(real + os.sep)):
            return True
    return False


def guard_output(model: Path, args: argparse.Namespace) -> None:
    """Refuse, in one line, an output that would destroy something that is not ours."""
    packaged = packaged_defaults()
    if packaged is not None and model.resolve().is_relative_to(packaged.resolve()):
        raise OutputError(f"{model} is inside the installed package; give --output")
    if model.is_dir():
        raise OutputError(f"--output {model} is a directory; give a file name")
    for path in (model, *card_paths(model)):
        if _is_input(path, _inputs(args)):
            raise OutputError(f"--output {model} would overwrite {path}, an input of this run")
    if args.overwrite:
        return
    if model.exists() and not written_by_us(model):
        raise OutputError(
            f"--output {model} exists and is not a model ser-train wrote; "
            "give another path or --overwrite"
        )
    for side in card_paths(model):
        if side.exists() and not model.exists():
            raise OutputError(f"{side} exists beside --output {model}; move it or --overwrite")


def reproduce_command(args: argparse.Namespace, settings: Settings, output: Path) -> str:
    """The run's effective choices as flags, so the card's command does not depend on config.toml
    defaults staying the same (the corpus root is left to data.dir / SER_DATA_DIR)."""
    t = settings.training
    parts = ["ser-train", *(["--corpora", *t.corpora] if t.corpora else [])]
    parts += ["--folds", str(t.folds), "--seed", str(t.seed), "--frontend", args.frontend]
    parts += ["--model-type", args.model_type, "--feature-set", args.feature_set]
    parts += ["--normalise", args.normalise, "--augment", str(args.augment)]
    if args.speech_gate != "auto":
        parts += ["--speech-gate", args.speech_gate]
    if args.frontend == "whisper-base":
        parts += ["--pooling", args.pooling] + (["--prosody"] if args.prosody else [])
    for flag, value in (("--regularisation", args.regularisation),
                        ("--prior-weight", args.prior_weight), ("--encoder", args.encoder)):
        if value is not None:
            parts += [flag, str(value)]
    written = Path(output)
    with contextlib.suppress(ValueError):  # outside the checkout: as given
        written = written.resolve().relative_to(PROJECT_ROOT)
    parts += ["--output", str(written)]
    parts += _data_parts(args)
    for flag in ("smoke", "no_cross_corpus", "no_degraded_calls"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    return " ".join(shlex.quote(p) for p in parts)


def _data_parts(args: argparse.Namespace) -> list[str]:
    parts: list[str] = []
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
    return parts

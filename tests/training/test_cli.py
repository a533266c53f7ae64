"""``ser-train``: one-line errors with exit code 2, help without the training extra, and a smoke
run on the shared corpora that leaves the shipped model alone."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import soundfile as sf
from synth import SR, speech_and_silence

from streamer.model.classifier import Classifier
from streamer.settings import PROJECT_ROOT
from training import cli

TRAINING_MODULES = ("sklearn", "skl2onnx", "onnx", "librosa", "threadpoolctl", "torch")


def test_missing_data_dir_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    code = cli.main(["--data-dir", str(tmp_path / "nope"), "--output", str(tmp_path / "m.onnx")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ser-train: error: data folder not found") and err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_corpus_unknown_corpus_and_bad_config(tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "m.onnx")
    assert cli.main(["--data-dir", str(tmp_path), "--output", out, "--smoke", "--quiet"]) == 2
    assert "corpus 'ravdess' not found" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(tmp_path), "--corpora", "iemocap", "--output", out]) == 2
    assert "unknown corpus 'iemocap'" in capsys.readouterr().err
    assert cli.main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(tmp_path), "--folds", "1", "--output", out]) == 2
    assert "training.folds" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_an_output_that_is_a_folder_is_refused(tmp_path, capsys) -> None:
    assert cli.main(["--data-dir", str(tmp_path), "--output", str(tmp_path), "--smoke"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"ser-train: error: --output {tmp_path}")


def _args(*argv: str):
    return cli.build_parser().parse_args(list(argv))


def test_an_output_that_is_not_ours_is_never_overwritten(tmp_path) -> None:
    """Issue 22.3: the run's own manifest, a recording, or a README beside the target."""
    from streamer.errors import OutputError
    from training.outputs import guard_output

    manifest = tmp_path / "calls.csv"
    manifest.write_text("path,label,speaker\n")
    with pytest.raises(OutputError, match="an input of this run"):
        guard_output(manifest, _args("--manifest", str(manifest)))
    clips = tmp_path / "clips"
    (clips / "happy").mkdir(parents=True)
    with pytest.raises(OutputError, match="an input of this run"):
        guard_output(clips / "happy" / "m.onnx", _args("--folder", str(clips)))
    wav = tmp_path / "call.wav"
    wav.write_bytes(b"RIFF....WAVE")
    with pytest.raises(OutputError, match="not a model ser-train wrote"):
        guard_output(wav, _args())
    guard_output(wav, _args("--overwrite"))  # told to: allowed
    beside = tmp_path / "new.md"
    beside.write_text("# my notes")
    with pytest.raises(OutputError, match="exists beside --output"):
        guard_output(tmp_path / "new.onnx", _args())
    assert wav.read_bytes() == b"RIFF....WAVE" and beside.read_text() == "# my notes"


def test_without_output_no_run_aims_at_the_shipped_model(tmp_path, monkeypatch) -> None:
    """Smoke runs and experiments (another model type, other corpora) write under out/; only an
    --output naming it replaces the shipped model."""
    from streamer.settings import load_settings

    monkeypatch.chdir(tmp_path)
    shipped = load_settings().model.path.resolve()

    def choice(*argv: str) -> cli.OutputChoice:
        args = cli.build_parser().parse_args(list(argv))
        overrides = {"training": {"output": str(args.output) if args.output else None}}
        return cli.choose_output(args, load_settings(None, overrides))

    for argv in ([], ["--smoke"], ["--model-type", "cnn", "--corpora", "emodb"]):
        chosen = choice(*argv)
        assert chosen.default and chosen.path.resolve() != shipped
        assert "out" in chosen.path.parts and "the shipped model is left alone" in chosen.note
    assert choice("--smoke").path == tmp_path / "out" / "smoke" / "ser-smoke.onnx"
    named = choice("--output", str(shipped))
    assert not named.default and named.path.resolve() == shipped


def _without_training_extras(*args: str) -> subprocess.CompletedProcess:
    """ser-train in a fresh interpreter in which the training extras cannot be imported."""
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in TRAINING_MODULES)
    code = f"import sys; {blocked}; from training.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_help_works_without_the_training_extra() -> None:
    result = _without_training_extras("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ser-train") and "--smoke" in result.stdout


def test_a_missing_extra_is_named_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "ravdess").mkdir()
    result = _without_training_extras("--data-dir", str(tmp_path), "--output", "x.onnx")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "is not installed" in lines[0] and "pip install 'ser-live[train]'" in lines[0]


def test_help_names_every_registered_model_type() -> None:
    from training.models.registry import MODEL_TYPES, make_trainer

    text = " ".join(cli.build_parser().format_help().split())
    for name, spec in MODEL_TYPES.items():
        assert f"{name}: {' '.join(spec.help.split())[:30]}" in text
        assert make_trainer(name, seed=0, smoke=True).name in (name, "cnn")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.corpus
@pytest.mark.slow
def test_smoke_run_writes_under_out_and_leaves_the_shipped_model_alone(
    ravdess_dir: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    shipped = PROJECT_ROOT / "models"
    before = {p.name: _digest(p) for p in shipped.iterdir() if p.is_file()}
    monkeypatch.chdir(tmp_path)
    # --config reaches the clip cuts, and the model records the settings it was cut with.
    (tmp_path / "cuts.toml").write_text("[segmenter]\nhangover_ms = 270\n", encoding="utf-8")
    args = [
        "--data-dir",
        str(ravdess_dir.parent),
        "--smoke",
        "--quiet",
        "--corpora",
        "ravdess",
        "--config",
        str(tmp_path / "cuts.toml"),
    ]
    code = cli.main(args)
    out = capsys.readouterr().out
    assert code == 0
    assert "smoke run: writing out/smoke/ser-smoke.onnx" in out
    assert {p.name: _digest(p) for p in shipped.iterdir() if p.is_file()} == before
    output = tmp_path / "out" / "smoke" / "ser-smoke.onnx"
    meta = {p.key: p.value for p in onnx.load(str(output)).metadata_props}
    assert meta["smoke"] == "true" and meta["folds"] == "3"
    assert json.loads(meta["segmenter"])["segmenter"]["hangover_ms"] == 270
    labels = json.loads(meta["labels"])
    assert labels[0] == "neutral" and len(labels) == 8

    # The figures are recomputed from what the run stored, and must be far above chance (1/8):
    # a label/fold mix-up in training or evaluation brings them down to it.
    confusion = np.array(json.loads(meta["cv_confusion"]), dtype=float)
    assert confusion.sum() == int(meta["n_clips"]) == 48
    recall = np.diag(confusion) / confusion.sum(axis=1)
    assert float(meta["cv_ua"]) == pytest.approx(np.mean(json.loads(meta["cv_ua_per_fold"])), 1e-3)
    assert recall.mean() >= 0.3 and float(meta["cv_ua"]) >= 0.3  # measured 0.46

    # The card lives beside the model and its command reproduces this run, not the shipped one.
    card = output.with_suffix(".md").read_text()
    assert "SMOKE RUN" in card and "Fold assignment" in card
    assert f"--output {output}" in card and "--smoke" in card

    # The smoke model is a working ser-live model: replay a file with it.
    from streamer.live.cli import main as ser_live

    audio, truth = speech_and_silence([("silence", 0.5), ("speech", 1.2), ("silence", 0.8)])
    wav, timeline = tmp_path / "call.wav", tmp_path / "call.csv"
    sf.write(wav, audio, SR)
    replay = ["--input", str(wav), "--no-ui", "--csv", str(timeline), "--model", str(output)]
    assert ser_live(replay) == 0
    # A synthetic buzz may be refused by the smoke model's speech gate (fitted on 48 clips):
    # then it is counted, not lost.
    err = capsys.readouterr().err
    gated = re.search(r"(\d+) non-speech segment", err)
    rows = len(timeline.read_text().splitlines()) - 1
    assert rows + (int(gated.group(1)) if gated else 0) == len(truth), err
    assert Classifier(output).labels == tuple(labels)

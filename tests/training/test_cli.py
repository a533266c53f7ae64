"""``ser-train``: one-line errors with exit code 2, and a smoke run on the shared corpora."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from streamer.classifier import Classifier
from training import cli


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


@pytest.mark.corpus
@pytest.mark.slow
def test_smoke_training_end_to_end(data_dir: Path, tmp_path: Path, capsys) -> None:
    if not (data_dir / "ravdess").is_dir():
        pytest.skip(f"RAVDESS not found under {data_dir}")
    output = tmp_path / "models" / "smoke.onnx"
    code = cli.main(
        [
            "--data-dir",
            str(data_dir),
            "--smoke",
            "--quiet",
            "--output",
            str(output),
            "--corpora",
            "ravdess",
        ]
    )
    assert code == 0, capsys.readouterr().err
    meta = {p.key: p.value for p in onnx.load(str(output)).metadata_props}
    assert meta["smoke"] == "true" and meta["folds"] == "3"
    assert json.loads(meta["labels"])[0] == "neutral"
    assert 0.0 <= float(meta["cv_ua"]) <= 1.0
    clf = Classifier(output)
    probs = clf.predict(np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.05)
    assert probs.sum() == pytest.approx(1.0)
    card = (tmp_path / "models" / "README.md").read_text()
    assert "SMOKE RUN" in card and "Fold assignment" in card and "--smoke" in card

"""The build command: refusals in one line, and the whole flow on the tiny model (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tools import require_module

from .tiny_whisper import write_tiny

require_module("torch", "encoders")

from training.encoders import build, checks, export, wheels  # noqa: E402


def test_offline_without_wheels_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = build.main(["--offline", "--cache", str(tmp_path), "--output", str(tmp_path / "x.onnx")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("encoders.build: error: ") and "missing and offline" in err


def test_bad_block_counts_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--blocks", "0", "--output", str(tmp_path / "x.onnx")]) == 2
    assert "--blocks must be at least 1" in capsys.readouterr().err


def test_whole_flow_on_the_tiny_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "whisper-base"
    folder.mkdir()
    write_tiny(folder / "model.bin")
    monkeypatch.setattr(wheels, "model_folder", lambda cache, offline: folder)
    monkeypatch.setattr(checks, "ctranslate2_parity", lambda folder, model: 1e-4)
    output = tmp_path / "tiny-b2.onnx"
    report = tmp_path / "report.json"
    code = build.main(["--blocks", "2", "--final-norm", "--int8", "--output", str(output),
                       "--report", str(report), "--repeats", "2"])
    assert code == 0, capsys.readouterr().err
    assert build.int8_path(output).name == "tiny-b2.int8.onnx"
    assert export.read_metadata(build.int8_path(output))["final_norm"] == "yes"
    figures = json.loads(report.read_text())
    assert figures["ct2_vs_torch_max_abs"] == 1e-4
    assert set(figures["onnx_vs_torch_max_abs"]) == {"35", "200", "400", "3000"}
    assert set(figures["files"]) == {"tiny-b2.onnx", "tiny-b2.int8.onnx"}
    assert figures["int8_vs_fp32_generated"]["n"] == 5
    assert "keeping 2, final norm yes" in capsys.readouterr().out

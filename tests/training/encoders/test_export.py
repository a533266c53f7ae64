"""ONNX export of the tiny encoder: parity with torch, dynamic time axis, metadata, int8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tools import require_module

from .tiny_whisper import D_MODEL, N_MELS, tiny_model

torch = require_module("torch", "encoders")
onnx = require_module("onnx", "encoders")

from training.encoders import checks, export  # noqa: E402
from training.encoders.signals import speech_like  # noqa: E402
from training.encoders.whisper_torch import from_ct2  # noqa: E402

SOURCE = {"source_wheels": "tiny test model", "licence": "test weights, no licence"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    encoder = from_ct2(tiny_model(), blocks=1, final_norm=True).eval()
    path = tmp_path_factory.mktemp("onnx") / "tiny-b1.onnx"
    return export.export_onnx(encoder, path, SOURCE), encoder


def test_onnx_matches_torch_at_two_lengths(exported: tuple[Path, object]) -> None:
    path, encoder = exported
    diffs = export.compare_to_torch(path, encoder, (35, 200))
    assert max(d.max_abs for d in diffs.values()) < 1e-4, diffs
    assert all(d.peak > 0.1 for d in diffs.values())


def test_time_axis_is_dynamic(exported: tuple[Path, object]) -> None:
    path, _ = exported
    graph = onnx.load(str(path)).graph
    (mel,) = graph.input
    (hidden,) = graph.output
    assert (mel.name, hidden.name) == ("mel", "hidden")
    mel_dims = [d.dim_param or d.dim_value for d in mel.type.tensor_type.shape.dim]
    out_dims = [d.dim_param or d.dim_value for d in hidden.type.tensor_type.shape.dim]
    assert mel_dims == ["batch", N_MELS, "frames"]
    assert out_dims == ["batch", "positions", D_MODEL]
    runner = export.session(path)
    for frames in (1, 77, 3000):
        mel_in = np.zeros((1, N_MELS, frames), np.float32)
        assert runner.run(None, {"mel": mel_in})[0].shape == (1, (frames + 1) // 2, D_MODEL)


def test_metadata_says_what_the_file_is(exported: tuple[Path, object]) -> None:
    props = export.read_metadata(exported[0])
    assert props["source_wheels"] == "tiny test model"
    assert (props["blocks"], props["final_norm"], props["all_blocks"]) == ("1", "yes", "no")
    assert (props["d_model"], props["n_heads"], props["max_frames"]) == ("64", "2", "3000")
    assert "n_mels=80" in props["mel"] and "hop=160" in props["mel"]
    assert props["torch_version"] == torch.__version__
    assert "opset 17" in props["exporter"]


def test_all_blocks_export_has_one_output_per_block(tmp_path: Path) -> None:
    encoder = from_ct2(tiny_model(), all_blocks=True).eval()
    path = export.export_onnx(encoder, tmp_path / "tiny-all.onnx", SOURCE)
    assert [o.name for o in onnx.load(str(path)).graph.output] == [
        "hidden_0", "hidden_1", "hidden_2"]
    assert export.read_metadata(path)["outputs"] == "hidden_0,hidden_1,hidden_2"
    diffs = export.compare_to_torch(path, encoder, (35, 200)).values()
    assert max(d.max_abs for d in diffs) < 1e-4


def test_int8_quantiser_runs_and_keeps_metadata(
    exported: tuple[Path, object], tmp_path: Path
) -> None:
    path, _ = exported
    int8 = export.quantize_int8(path, tmp_path / "tiny-b1.int8.onnx")
    props = export.read_metadata(int8)
    assert props["blocks"] == "1" and "QInt8" in props["quantization"]
    ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert "MatMulInteger" in ops and "Conv" in ops and "ConvInteger" not in ops  # see export
    clips = [speech_like(0.5, seed=1), speech_like(1.3, seed=2)]
    fidelity = checks.int8_fidelity(path, int8, clips)
    assert len(fidelity.cosines) == 2 and len(fidelity.max_abs) == 1
    assert all(np.isfinite(c[0]) and -1.0 <= c[0] <= 1.0 + 1e-6 for c in fidelity.cosines)
    assert 0 < fidelity.relative_rms[0] < 0.5
    timing = checks.timings(int8, seconds=0.5, repeats=2)
    assert timing.mel_ms > 0 and timing.encoder_ms > 0

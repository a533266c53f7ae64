"""The Whisper-base encoder front-end: the shipped encoder gives the stored vector of a
generated signal, is checked by sha256 when a model names it, takes the input level out, and
takes any length."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from synth import vowel

from streamer.errors import ModelError
from streamer.model.frontends import frontend_for
from streamer.model.frontends.whisper import WhisperEncoder, file_sha256, loud_level_dbfs
from streamer.package import PROJECT_ROOT

ENCODER = PROJECT_ROOT / "models" / "whisper-base-b3.int8.onnx"
REFERENCE = Path(__file__).with_name("whisper_reference.npy")


def signal() -> np.ndarray:
    """2.4 s of three vowels at falling pitch with faint noise: deterministic, speech-like."""
    parts = [vowel(0.8, f0=f0, seed=k) for k, f0 in enumerate((190, 160, 130))]
    rng = np.random.default_rng(7)
    x = np.concatenate(parts) + 0.003 * rng.standard_normal(sum(map(len, parts)))
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def encoder() -> WhisperEncoder:
    return WhisperEncoder(ENCODER, file_sha256(ENCODER))


def test_the_shipped_encoder_gives_the_stored_vector(encoder) -> None:
    got = encoder.vector(signal())
    assert got.shape == (512,) and len(encoder.names) == 512
    both = WhisperEncoder(ENCODER, encoder.sha256, pooling="mean+std")
    assert np.array_equal(both.vector(signal())[:512], got) and len(both.names) == 1024
    expected = np.load(REFERENCE)
    # int8 kernels may round differently across CPUs: close, not bit-exact.
    np.testing.assert_allclose(got, expected, rtol=0.02, atol=0.02)
    assert np.corrcoef(got, expected)[0, 1] > 0.9999


def test_the_input_level_is_taken_out_before_the_mel(encoder) -> None:
    x = signal()
    loud, quiet = encoder.vector(x), encoder.vector(x * np.float32(10 ** (-20 / 20)))
    assert np.max(np.abs(loud - quiet)) < 0.02 * np.max(np.abs(loud))
    assert loud_level_dbfs(x * 0.1) == pytest.approx(loud_level_dbfs(x) - 20.0, abs=1e-6)
    unlevelled = WhisperEncoder(ENCODER, encoder.sha256, level_dbfs=None)
    moved = unlevelled.vector(x) - unlevelled.vector(x * np.float32(0.1))
    assert np.max(np.abs(moved)) > 10 * np.max(np.abs(loud - quiet))  # the step matters


@pytest.mark.parametrize("seconds", [0.02, 0.3, 31.0])
def test_any_length_gives_a_finite_vector(encoder, seconds) -> None:
    x = np.resize(signal(), int(seconds * 16000))
    assert np.all(np.isfinite(encoder.vector(x)))


def test_silence_is_not_blown_up(encoder) -> None:
    assert np.all(np.isfinite(encoder.vector(np.zeros(16000, np.float32))))


def _metadata(**extra: str) -> dict[str, str]:
    meta = {"frontend": "whisper-base", "frontend_file": ENCODER.name,
            "frontend_sha256": file_sha256(ENCODER)}
    meta.update(extra)
    return meta


def test_a_model_loads_its_encoder_from_beside_it_and_checks_it(tmp_path) -> None:
    frontend = frontend_for(_metadata(), ENCODER.parent, "m.onnx")
    assert frontend.name == "whisper-base" and frontend.sha256 == file_sha256(ENCODER)
    with pytest.raises(ModelError, match="sha256 differs"):
        frontend_for(_metadata(frontend_sha256="0" * 64), ENCODER.parent, "m.onnx")
    with pytest.raises(ModelError, match="encoder file not found"):
        frontend_for(_metadata(), tmp_path, "m.onnx")
    with pytest.raises(ModelError, match="front-end 'wav2vec'"):
        frontend_for({"frontend": "wav2vec"}, tmp_path, "m.onnx")


def test_prosodic_columns_are_appended_by_name(encoder) -> None:
    names = ("f0_st__mean", "voiced_fraction")
    fused = WhisperEncoder(ENCODER, encoder.sha256, prosody=names)
    vector = fused.vector(signal())
    assert vector.shape == (514,) and fused.names[-2:] == names
    assert json.loads(fused.to_metadata()["frontend_prosody"]) == list(names)
    with pytest.raises(ModelError, match="unknown functional columns"):
        WhisperEncoder(ENCODER, encoder.sha256, prosody=("nope",))
    with pytest.raises(ModelError, match="unknown pooling"):
        WhisperEncoder(ENCODER, encoder.sha256, pooling="max")

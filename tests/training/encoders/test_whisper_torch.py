"""The torch encoder on a tiny random model: shapes, positions, cuts, and a numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from tools import require_module

from .tiny_whisper import D_MODEL, N_HEADS, N_LAYERS, N_MELS, N_POSITIONS, tiny_model

torch = require_module("torch", "encoders")

from training.encoders.ct2_format import tensors  # noqa: E402
from training.encoders.whisper_torch import EncoderShape, WhisperEncoder, from_ct2  # noqa: E402

VARIABLES = tensors(tiny_model(), "encoder")


def _run(encoder: WhisperEncoder, mel: np.ndarray):
    with torch.no_grad():
        out = encoder.eval()(torch.from_numpy(mel))
    return [o.numpy() for o in out] if isinstance(out, tuple) else out.numpy()


def _mel(rng: np.random.Generator, frames: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.5, (1, N_MELS, frames)).astype(np.float32)


def test_shape_is_inferred_from_the_variables() -> None:
    shape = EncoderShape.infer(VARIABLES)
    assert shape == EncoderShape(N_MELS, D_MODEL, N_HEADS, N_LAYERS, N_POSITIONS)


@pytest.mark.parametrize("frames", [1, 2, 35, 200, 201, 2 * N_POSITIONS])
def test_any_length_gives_ceil_half_positions(rng: np.random.Generator, frames: int) -> None:
    hidden = _run(WhisperEncoder(VARIABLES, blocks=1), _mel(rng, frames))
    assert hidden.shape == (1, (frames + 1) // 2, D_MODEL)
    assert np.all(np.isfinite(hidden))


def test_positions_are_sliced_to_the_input_and_too_long_is_refused(
    rng: np.random.Generator,
) -> None:
    encoder = WhisperEncoder(VARIABLES, blocks=1).eval()
    mel = torch.from_numpy(_mel(rng, 71))
    with torch.no_grad():
        conv = encoder.gelu(encoder.conv2(encoder.gelu(encoder.conv1(mel)))).transpose(1, 2)
        added = (encoder.stem(mel) - conv).numpy()[0]
    table = VARIABLES["position_encodings/encodings"].astype(np.float32)
    np.testing.assert_allclose(added, table[:36], atol=1e-6)
    with pytest.raises(ValueError, match="longer than the encoder's 3000"):
        encoder(torch.zeros(1, N_MELS, 2 * N_POSITIONS + 1))


def test_all_blocks_outputs_equal_the_cuts(rng: np.random.Generator) -> None:
    mel = _mel(rng, 90)
    every = _run(WhisperEncoder(VARIABLES, all_blocks=True, final_norm=True), mel)
    assert len(every) == N_LAYERS + 2
    names = WhisperEncoder(VARIABLES, all_blocks=True, final_norm=True).output_names()
    assert names == ["hidden_0", "hidden_1", "hidden_2", "hidden_norm"]
    with torch.no_grad():
        stem = WhisperEncoder(VARIABLES, blocks=1).eval().stem(torch.from_numpy(mel)).numpy()
    np.testing.assert_allclose(every[0], stem, atol=1e-6)
    for blocks in range(1, N_LAYERS + 1):
        cut = _run(WhisperEncoder(VARIABLES, blocks=blocks), mel)
        np.testing.assert_allclose(every[blocks], cut, atol=1e-5)
    normed = _run(WhisperEncoder(VARIABLES, final_norm=True), mel)
    np.testing.assert_allclose(every[-1], normed, atol=1e-5)


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def _norm(x: np.ndarray, prefix: str) -> np.ndarray:
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    v = VARIABLES
    return (x - mean) / np.sqrt(var + 1e-5) * v[f"{prefix}/gamma"] + v[f"{prefix}/beta"]


def _reference(mel: np.ndarray, blocks: int) -> np.ndarray:
    """Whisper's encoder written out in float64 numpy: separate q/k/v, each scaled by d**-0.25."""
    v = {k: a.astype(np.float64) for k, a in VARIABLES.items()}
    x = np.pad(mel[0], ((0, 0), (1, 1)))
    h = np.stack([np.einsum("oik,ik->o", v["conv1/weight"], x[:, t : t + 3])
                  for t in range(mel.shape[2])], 1) + v["conv1/bias"][:, None]
    h = np.pad(_gelu(h), ((0, 0), (1, 1)))
    h = np.stack([np.einsum("oik,ik->o", v["conv2/weight"], h[:, t : t + 3])
                  for t in range(0, mel.shape[2], 2)], 1) + v["conv2/bias"][:, None]
    x = _gelu(h).T + v["position_encodings/encodings"][: h.shape[1]]
    d_head = D_MODEL // N_HEADS
    for i in range(blocks):
        p = f"layer_{i}/self_attention"
        y = _norm(x, f"{p}/layer_norm") @ v[f"{p}/linear_0/weight"].T + v[f"{p}/linear_0/bias"]
        q, k, val = (y[:, j * D_MODEL : (j + 1) * D_MODEL].reshape(-1, N_HEADS, d_head)
                     for j in range(3))
        scores = np.einsum("qhd,khd->hqk", q * d_head**-0.25, k * d_head**-0.25)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        mixed = np.einsum("hqk,khd->qhd", weights, val).reshape(-1, D_MODEL)
        x = x + mixed @ v[f"{p}/linear_1/weight"].T + v[f"{p}/linear_1/bias"]
        f = f"layer_{i}/ffn"
        y = _norm(x, f"{f}/layer_norm") @ v[f"{f}/linear_0/weight"].T + v[f"{f}/linear_0/bias"]
        y = _gelu(y)
        x = x + y @ v[f"{f}/linear_1/weight"].T + v[f"{f}/linear_1/bias"]
    return x[None]


@pytest.mark.parametrize("frames", [7, 40])
def test_matches_a_plain_numpy_whisper_encoder(rng: np.random.Generator, frames: int) -> None:
    mel = _mel(rng, frames)
    ours = _run(WhisperEncoder(VARIABLES, blocks=N_LAYERS), mel)
    np.testing.assert_allclose(ours, _reference(mel, N_LAYERS), atol=2e-4)


def test_bad_cuts_and_models_are_refused() -> None:
    with pytest.raises(ValueError, match=r"blocks must be 1\.\.2, not 3"):
        WhisperEncoder(VARIABLES, blocks=3)
    with pytest.raises(ValueError, match="blocks must be"):
        WhisperEncoder(VARIABLES, blocks=0)
    wrong = tiny_model()
    with pytest.raises(ValueError, match="expected a WhisperSpec"):
        from_ct2(type(wrong)("TransformerSpec", 1, wrong.variables))

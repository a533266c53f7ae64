"""A small randomly initialised Whisper encoder in CTranslate2's model.bin layout (for tests).

Same variable names, dtypes (fp16 weights, int16 ``num_heads``) and fused-QKV layout (zero key
bias) as the real whisper-base file, at d_model 64, 2 heads, 2 blocks: a few hundred kB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.encoders.ct2_format import Ct2Model, write_model

D_MODEL, N_HEADS, N_LAYERS, N_MELS, N_POSITIONS = 64, 2, 2, 80, 1500


def _sinusoids(length: int, channels: int) -> np.ndarray:
    step = np.log(10000.0) / (channels // 2 - 1)
    angles = np.arange(length)[:, None] * np.exp(-step * np.arange(channels // 2))[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def _block(rng: np.random.Generator, prefix: str, d: int) -> dict[str, np.ndarray]:
    def w(*shape: int, scale: float = 0.15) -> np.ndarray:
        return (scale * rng.standard_normal(shape)).astype(np.float16)

    qkv_bias = w(3 * d)
    qkv_bias[d : 2 * d] = 0  # Whisper's key projection has no bias
    out = {}
    for part in ("self_attention", "ffn"):
        out[f"{prefix}/{part}/layer_norm/gamma"] = (1 + w(d, scale=0.1)).astype(np.float16)
        out[f"{prefix}/{part}/layer_norm/beta"] = w(d, scale=0.1)
    out.update({
        f"{prefix}/self_attention/linear_0/weight": w(3 * d, d),
        f"{prefix}/self_attention/linear_0/bias": qkv_bias,
        f"{prefix}/self_attention/linear_1/weight": w(d, d),
        f"{prefix}/self_attention/linear_1/bias": w(d),
        f"{prefix}/ffn/linear_0/weight": w(4 * d, d),
        f"{prefix}/ffn/linear_0/bias": w(4 * d),
        f"{prefix}/ffn/linear_1/weight": w(d, 4 * d, scale=0.08),
        f"{prefix}/ffn/linear_1/bias": w(d),
    })
    return out


def tiny_model(seed: int = 0, d: int = D_MODEL, layers: int = N_LAYERS) -> Ct2Model:
    """An encoder-only WhisperSpec model (the decoder is not needed to build the encoder)."""
    rng = np.random.default_rng(seed)
    variables: dict[str, np.ndarray] = {
        "encoder/conv1/weight": (0.1 * rng.standard_normal((d, N_MELS, 3))).astype(np.float16),
        "encoder/conv1/bias": (0.1 * rng.standard_normal(d)).astype(np.float16),
        "encoder/conv2/weight": (0.1 * rng.standard_normal((d, d, 3))).astype(np.float16),
        "encoder/conv2/bias": (0.1 * rng.standard_normal(d)).astype(np.float16),
    }
    for i in range(layers):
        variables.update(_block(rng, f"encoder/layer_{i}", d))
    variables["encoder/layer_norm/gamma"] = np.ones(d, np.float16)
    variables["encoder/layer_norm/beta"] = np.zeros(d, np.float16)
    variables["encoder/num_heads"] = np.array(N_HEADS, dtype=np.int16)
    variables["encoder/position_encodings/encodings"] = _sinusoids(N_POSITIONS, d).astype(
        np.float16
    )
    return Ct2Model(spec="WhisperSpec", revision=3, variables=dict(sorted(variables.items())))


def write_tiny(path: Path, seed: int = 0) -> Path:
    return write_model(path, tiny_model(seed))

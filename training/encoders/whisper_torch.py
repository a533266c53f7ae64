"""Whisper's audio encoder as a torch module, built from CTranslate2 variables, cut after N blocks.

What the CTranslate2 conversion stores (checked on whisper-base, spec WhisperSpec revision 3):

- ``conv1`` (d, 80, 3) and ``conv2`` (d, d, 3) with biases: the conv stem, GELU after each,
  conv2 with stride 2, so T mel frames become ceil(T / 2) positions;
- ``position_encodings/encodings`` (1500, d): Whisper's fixed sinusoids, stored (they match
  the formula to fp16 rounding); we use the stored table and slice it to the input's own length
  instead of padding every input to 30 s (1500 positions = 3000 frames is the maximum);
- per block ``layer_i``: pre-LN self-attention with the Q, K, V projections fused into
  ``linear_0`` (3d, d) and one fused bias (3d) whose key third is zero (Whisper's key projection
  has no bias), the output projection ``linear_1``; a pre-LN GELU feed-forward
  ``linear_0`` (4d, d), ``linear_1`` (d, 4d);
- ``layer_norm`` (the final one) and ``num_heads`` (a scalar).

Weights are fp16 in the file and float32 here. LayerNorm eps is 1e-5, GELU the exact (erf) one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from training.encoders.ct2_format import Ct2Model, tensors

LN_EPS = 1e-5
_LAYER = re.compile(r"layer_(\d+)/")


@dataclass(frozen=True)
class EncoderShape:
    n_mels: int
    d_model: int
    n_heads: int
    n_layers: int
    n_positions: int  # the longest input is 2 * n_positions mel frames

    @classmethod
    def infer(cls, variables: Mapping[str, np.ndarray], n_heads: int | None = None) -> EncoderShape:
        """From the encoder's variables (prefix removed); ``n_heads`` only if not stored."""
        d_model, n_mels, _ = variables["conv1/weight"].shape
        layers = {int(m.group(1)) for name in variables if (m := _LAYER.match(name))}
        if layers != set(range(len(layers))) or not layers:
            raise ValueError(f"encoder blocks are not numbered 0..n-1: {sorted(layers)}")
        if "num_heads" in variables:
            n_heads = int(variables["num_heads"])
        if not n_heads or d_model % n_heads:
            raise ValueError(f"cannot split d_model {d_model} into {n_heads} attention heads")
        n_positions = variables["position_encodings/encodings"].shape[0]
        return cls(int(n_mels), int(d_model), n_heads, len(layers), int(n_positions))


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32))


def _layer_norm(variables: Mapping[str, np.ndarray], prefix: str, d: int) -> nn.LayerNorm:
    norm = nn.LayerNorm(d, eps=LN_EPS)
    norm.weight.data = _tensor(variables[f"{prefix}/gamma"])
    norm.bias.data = _tensor(variables[f"{prefix}/beta"])
    return norm


def _linear(variables: Mapping[str, np.ndarray], prefix: str) -> nn.Linear:
    weight = variables[f"{prefix}/weight"]
    linear = nn.Linear(weight.shape[1], weight.shape[0])
    linear.weight.data = _tensor(weight)
    linear.bias.data = _tensor(variables[f"{prefix}/bias"])
    return linear


class Block(nn.Module):
    """One pre-LN transformer block: x + attn(LN(x)), then x + ffn(LN(x))."""

    def __init__(self, variables: Mapping[str, np.ndarray], prefix: str, shape: EncoderShape):
        super().__init__()
        d = shape.d_model
        self.n_heads, self.d_model = shape.n_heads, d
        self.attn_norm = _layer_norm(variables, f"{prefix}/self_attention/layer_norm", d)
        self.qkv = _linear(variables, f"{prefix}/self_attention/linear_0")
        self.out = _linear(variables, f"{prefix}/self_attention/linear_1")
        self.ffn_norm = _layer_norm(variables, f"{prefix}/ffn/layer_norm", d)
        self.ffn = nn.Sequential(
            _linear(variables, f"{prefix}/ffn/linear_0"), nn.GELU(),
            _linear(variables, f"{prefix}/ffn/linear_1"),
        )

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        """Full (unmasked) multi-head self-attention over every position."""
        batch, d, heads = x.shape[0], self.d_model, self.n_heads
        qkv = self.qkv(x).view(batch, -1, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (batch, heads, length, d_head)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (d // heads) ** -0.5
        mixed = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.out(mixed.transpose(1, 2).reshape(batch, -1, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.attn_norm(x))
        return x + self.ffn(self.ffn_norm(x))


class WhisperEncoder(nn.Module):
    """(batch, n_mels, T) Whisper log-mel -> (batch, ceil(T/2), d_model) hidden states.

    ``blocks``: transformer blocks kept (1..n_layers, default all). ``final_norm``: apply the
    encoder's final LayerNorm after the last kept block (Whisper applies it after block n_layers
    only). ``all_blocks``: return a tuple instead, the stem+positions output then the residual
    stream after each kept block (no LayerNorm), plus the final-normed last one when
    ``final_norm`` is set, so any cut can be studied from one run.
    """

    def __init__(
        self, variables: Mapping[str, np.ndarray], blocks: int | None = None,
        final_norm: bool = False, all_blocks: bool = False, n_heads: int | None = None,
    ) -> None:
        super().__init__()
        shape = EncoderShape.infer(variables, n_heads)
        kept = shape.n_layers if blocks is None else blocks
        if not 1 <= kept <= shape.n_layers:
            raise ValueError(f"blocks must be 1..{shape.n_layers}, not {kept}")
        self.shape, self.blocks = shape, kept
        self.final_norm, self.all_blocks = final_norm, all_blocks
        self.conv1 = nn.Conv1d(shape.n_mels, shape.d_model, 3, padding=1)
        self.conv2 = nn.Conv1d(shape.d_model, shape.d_model, 3, stride=2, padding=1)
        for conv, name in ((self.conv1, "conv1"), (self.conv2, "conv2")):
            conv.weight.data = _tensor(variables[f"{name}/weight"])
            conv.bias.data = _tensor(variables[f"{name}/bias"])
        self.register_buffer("positions", _tensor(variables["position_encodings/encodings"]))
        self.layers = nn.ModuleList(Block(variables, f"layer_{i}", shape) for i in range(kept))
        self.norm = _layer_norm(variables, "layer_norm", shape.d_model) if final_norm else None
        self.gelu = nn.GELU()

    def stem(self, mel: torch.Tensor) -> torch.Tensor:
        """Conv stem plus the first ceil(T/2) positional encodings: (batch, ceil(T/2), d)."""
        x = self.gelu(self.conv2(self.gelu(self.conv1(mel)))).transpose(1, 2)
        if not torch.jit.is_tracing() and x.shape[1] > self.positions.shape[0]:
            raise ValueError(f"{mel.shape[-1]} mel frames is longer than the encoder's "
                             f"{2 * self.positions.shape[0]} (cut the audio into parts)")
        return x + self.positions[: x.shape[1]]

    def forward(self, mel: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.stem(mel)
        states = [x]
        for layer in self.layers:
            x = layer(x)
            states.append(x)
        if self.norm is not None:
            x = self.norm(x)
            states.append(x)
        return tuple(states) if self.all_blocks else x

    def output_names(self) -> list[str]:
        """Names of the outputs, in order: ``hidden``, or ``hidden_0..N`` (+ ``hidden_norm``)."""
        if not self.all_blocks:
            return ["hidden"]
        names = [f"hidden_{i}" for i in range(self.blocks + 1)]
        return names + (["hidden_norm"] if self.norm is not None else [])


def from_ct2(model: Ct2Model, **options: object) -> WhisperEncoder:
    """The encoder of a parsed Whisper model.bin (``options`` as for :class:`WhisperEncoder`)."""
    if model.spec != "WhisperSpec":
        raise ValueError(f"expected a WhisperSpec model, got {model.spec}")
    return WhisperEncoder(tensors(model, "encoder"), **options)  # type: ignore[arg-type]

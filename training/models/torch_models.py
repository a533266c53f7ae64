"""Small frame-level CNN with attention pooling (PyTorch CPU), exported to ONNX (input_kind frames).

Per outer fold, each of ``n_members`` networks holds out one inner group of training speakers
(the speakers of another outer fold) for early stopping and temperature fitting; with more than
one member the networks are averaged (a cross-validation ensemble) and, with ``ensemble=True``,
also averaged with the utterance-vector logistic regression.
"""

from __future__ import annotations

import copy
import io
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from training.data.dataset import TrainData
from training.evaluation import metrics as evaluate
from training.models.trainer import subset


@dataclass(frozen=True)
class CNNConfig:
    channels: tuple[int, int, int] = (48, 64, 96)
    dropout: float = 0.3
    epochs: int = 15
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-3
    crop_frames: int = 250  # 2.5 s random crops: also a time-shift augmentation
    label_smoothing: float = 0.05
    n_members: int = 1


SMOKE_CONFIG = CNNConfig(channels=(16, 16, 16), epochs=2, n_members=1)


class AttentionCNN(nn.Module):
    """(N, T, D) frames -> (N, n_classes) probabilities; any T >= 1."""

    def __init__(
        self, n_features: int, n_classes: int, mean: np.ndarray, std: np.ndarray, cfg: CNNConfig
    ) -> None:
        super().__init__()
        c1, c2, c3 = cfg.channels
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1))
        self.register_buffer("inv_std", torch.tensor(1.0 / std, dtype=torch.float32).view(1, -1, 1))

        def block(cin: int, cout: int, k: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout), nn.ReLU()
            )

        self.body = nn.Sequential(
            block(n_features, c1, 5),
            nn.MaxPool1d(2, ceil_mode=True),
            block(c1, c2, 3),
            nn.MaxPool1d(2, ceil_mode=True),
            block(c2, c3, 3),
        )
        self.attention = nn.Conv1d(c3, 1, 1)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * c3, n_classes))

    def logits(self, frames: torch.Tensor) -> torch.Tensor:
        x = (frames.transpose(1, 2) - self.mean) * self.inv_std  # (N, D, T)
        h = self.body(x)
        w = torch.softmax(self.attention(h), dim=2)  # (N, 1, T') attention over time
        mu = (h * w).sum(dim=2)
        var = ((h - mu.unsqueeze(2)) ** 2 * w).sum(dim=2)
        return self.head(torch.cat([mu, torch.sqrt(var + 1e-5)], dim=1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(frames), dim=1)


class Averaged(nn.Module):
    """Mean of several members' probabilities (uncalibrated; export appends the temperature)."""

    def __init__(self, members: list[AttentionCNN]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if len(self.members) == 1:
            return self.members[0](frames)
        return torch.stack([m(frames) for m in self.members]).mean(dim=0)


def _batch(
    frames: list[np.ndarray], idx: np.ndarray, crop: int, rng: np.random.Generator
) -> torch.Tensor:
    length = min(crop, min(len(frames[i]) for i in idx))
    out = np.empty((len(idx), length, frames[idx[0]].shape[1]), np.float32)
    for row, i in enumerate(idx):
        start = int(rng.integers(0, len(frames[i]) - length + 1))
        out[row] = frames[i][start : start + length]
    return torch.from_numpy(out)


def _predict(model: nn.Module, frames: list[np.ndarray], logits: bool = False) -> np.ndarray:
    """Whole utterances, one at a time (as live), in eval mode."""
    model.eval()
    out = []
    with torch.inference_mode():
        for f in frames:
            x = torch.from_numpy(np.asarray(f, np.float32))[None]
            y = model.logits(x) if logits else model(x)
            out.append(y[0].numpy())
    return np.stack(out).astype(np.float64)


def train_member(
    train: TrainData, val: TrainData | None, cfg: CNNConfig, seed: int
) -> tuple[AttentionCNN, float, int]:
    """Train one network; returns it (best epoch by validation UA), its temperature, the epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    assert train.frames is not None
    stacked = np.concatenate([f[::4] for f in train.frames]).astype(np.float32)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0) + 1e-3
    model = AttentionCNN(stacked.shape[1], train.n_classes, mean, std, cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * int(np.ceil(len(train.y) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=max(steps, 1))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    y = torch.from_numpy(train.y.astype(np.int64))
    # Sort-free bucketing: batches of similar length keep crops long.
    lengths = np.array([len(f) for f in train.frames])
    best_state, best_ua, best_epoch = copy.deepcopy(model.state_dict()), -1.0, 0
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(len(train.y))
        chunks = order[np.argsort(lengths[order] // 50, kind="stable")]
        batches = [chunks[i : i + cfg.batch_size] for i in range(0, len(chunks), cfg.batch_size)]
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            if len(idx) < 2:
                continue
            opt.zero_grad()
            loss = loss_fn(model.logits(_batch(train.frames, idx, cfg.crop_frames, rng)), y[idx])
            loss.backward()
            opt.step()
            sched.step()
        if val is not None and (epoch >= cfg.epochs // 2 or epoch == cfg.epochs - 1):
            probs = _predict(model, val.frames or [])
            ua = evaluate.unweighted_accuracy(val.y, probs.argmax(1), train.n_classes)
            if ua >= best_ua:
                best_ua, best_epoch = ua, epoch + 1
                best_state = copy.deepcopy(model.state_dict())
    if val is None:
        return model.eval(), 1.0, cfg.epochs
    model.load_state_dict(best_state)
    model.eval()
    val_logits = _predict(model, val.frames or [], logits=True)
    val_probs = np.exp(val_logits - val_logits.max(1, keepdims=True))
    val_probs /= val_probs.sum(1, keepdims=True)
    return model, evaluate.fit_temperature(val_probs, val.y), best_epoch


@dataclass
class TorchModel:
    network: Averaged
    temperature: float  # one member: fitted on its validation speakers; more: geometric mean
    params: dict[str, Any]
    input_kind: str = "frames"

    def predict_raw(self, vectors: np.ndarray, frames: list[np.ndarray] | None) -> np.ndarray:
        assert frames is not None
        return _predict_avg(self.network, frames)

    def to_onnx(self) -> onnx.ModelProto:
        n_features = self.network.members[0].mean.shape[1]
        example = torch.zeros(1, 200, n_features)
        buffer = io.BytesIO()
        with warnings.catch_warnings():  # the TorchScript exporter's deprecation notices
            warnings.simplefilter("ignore")
            torch.onnx.export(
                self.network.eval(),
                (example,),
                buffer,
                dynamo=False,
                input_names=["frames"],
                output_names=["probabilities"],
                opset_version=17,
                dynamic_axes={"frames": {0: "batch", 1: "time"}, "probabilities": {0: "batch"}},
            )
        return onnx.load_from_string(buffer.getvalue())


def _predict_avg(network: Averaged, frames: list[np.ndarray]) -> np.ndarray:
    network.eval()
    with torch.inference_mode():
        return np.stack(
            [network(torch.from_numpy(np.asarray(f, np.float32))[None])[0].numpy() for f in frames]
        ).astype(np.float64)


@dataclass
class TorchTrainer:
    seed: int = 0
    smoke: bool = False
    ensemble: bool = False
    config: CNNConfig | None = None
    input_kind: str = "frames"
    name: str = "cnn"  # "ensemble": three members, each validated on other speakers
    threads: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def fit(self, data: TrainData) -> TorchModel:
        torch.set_num_threads(self.threads)
        cfg = self.config or (SMOKE_CONFIG if self.smoke else CNNConfig())
        if self.ensemble and not self.smoke:
            cfg = replace(cfg, n_members=3)
        groups = np.unique(data.group)
        rng = np.random.default_rng(self.seed)
        held = rng.permutation(groups)[: max(1, min(cfg.n_members, len(groups) - 1))]
        members, temps, epochs = [], [], []
        for m, g in enumerate(held):
            tr = np.flatnonzero(data.group != g)
            va = np.flatnonzero((data.group == g) & ~data.is_aug)
            net, t, ep = train_member(subset(data, tr), subset(data, va), cfg, self.seed + m)
            members.append(net)
            temps.append(t)
            epochs.append(ep)
        network = Averaged(members)
        temperature = float(np.exp(np.mean(np.log(temps))))
        return TorchModel(
            network,
            temperature,
            {
                "members": len(members),
                "best_epochs": epochs,
                "temperatures": [round(t, 3) for t in temps],
            },
        )

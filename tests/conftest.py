"""Shared fixtures: a seeded rng, the corpus folder (or a clear skip), small test models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from onnx_factory import write_linear_model  # noqa: E402
from tools import skip_or_fail  # noqa: E402

from streamer.settings import load_settings  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Corpus root from the settings (config.toml [data] dir, or SER_DATA_DIR)."""
    root = load_settings().data.dir
    if not root.is_dir():
        skip_or_fail(f"corpus folder {root} not found; set SER_DATA_DIR to the shared data folder")
    return root


def _corpus(data_dir: Path, name: str, pattern: str) -> Path:
    path = data_dir / name
    if not any(path.glob(pattern)):
        skip_or_fail(f"{name} clips ({pattern}) not found under {path}")
    return path


@pytest.fixture(scope="session")
def ravdess_dir(data_dir: Path) -> Path:
    return _corpus(data_dir, "ravdess", "Actor_*/*.flac")


@pytest.fixture(scope="session")
def emodb_dir(data_dir: Path) -> Path:
    return _corpus(data_dir, "emodb", "*.flac")


@pytest.fixture(scope="session")
def linear_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_linear_model(tmp_path_factory.mktemp("models") / "linear.onnx")


@pytest.fixture(scope="session")
def batch_archive(tmp_path_factory: pytest.TempPathFactory):
    """A generated archive (6 calls, a broken and an empty file) and one local ser-batch run
    over it: (input folder, good recordings, output folder, completed process)."""
    from archive import make_archive, ser_batch

    root = tmp_path_factory.mktemp("archive")
    good = make_archive(root / "calls", calls=6)
    out = root / "reviewed"
    result = ser_batch(root / "calls", "--out", out, "--workers", 2, "--jsonl")
    return root / "calls", good, out, result

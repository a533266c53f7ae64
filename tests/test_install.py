"""A wheel works outside a checkout: build it, install it into a fresh venv (runtime dependencies
only, no extras), and replay a generated recording from another folder with the packaged config
and model. The same venv shows that ser-train and ser-report name the extra they are missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tools import require_tool

PROJECT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "config.toml", "models",
           "streamer", "training")
PATTERN = [("silence", 0.5), ("speech", 1.2), ("silence", 0.8), ("speech", 1.0), ("silence", 0.6)]

pytestmark = pytest.mark.slow


def run(*args, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SER_DATA_DIR")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv with the wheel built from this tree installed."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"  # a copy, so the build leaves nothing behind in the checkout
    source.mkdir()
    for name in SOURCES:
        if (PROJECT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(PROJECT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(PROJECT / name, source / name)
    dist = root / "dist"
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source,
                cwd=root)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("ser_live-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in ("config.toml", "models/ser-default.onnx"):
            assert archive.read(f"streamer/_defaults/{name}") == (PROJECT / name).read_bytes()
    assert not any(n.startswith(("tests/", "models/", "config.toml")) for n in names)
    for page in ("index.html", "app.js", "worklet.js"):  # ser-serve's browser page
        assert f"streamer/serve/static/{page}" in names
    venv = root / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=root).returncode == 0
    pip = run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=root)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return venv / "bin"


def test_a_wheel_replays_a_file_from_another_folder(installed, tmp_path):
    elsewhere = tmp_path / "calls"
    elsewhere.mkdir()
    # Speech the packaged model's speech gate lets through: the espeak-ng demo call.
    require_tool("espeak-ng")
    from streamer.live.demo import LINES, make_sample

    make_sample(elsewhere / "call.wav")
    truth = LINES
    result = run(installed / "ser-live", "--input", "call.wav", "--no-ui", "--csv", "call.csv",
                 cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(truth)
    header, *rows = (elsewhere / "call.csv").read_text().splitlines()
    assert len(rows) == len(truth)
    assert header.count(",p_") == 9  # the packaged default model: RAVDESS's 8 + boredom
    # The package really is the wheel's, not this checkout's.
    where = run(installed / "python", "-c", "import streamer; print(streamer.__file__)",
                cwd=elsewhere)
    assert str(PROJECT) not in where.stdout and "site-packages" in where.stdout


def test_without_extras_the_tools_say_which_extra_to_install(installed, tmp_path):
    assert run(installed / "python", "-c", "import sklearn", cwd=tmp_path).returncode != 0
    helped = run(installed / "ser-train", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: ser-train"), helped.stderr
    (tmp_path / "ravdess").mkdir()
    train = run(installed / "ser-train", "--data-dir", tmp_path, "--output", "m.onnx",
                cwd=tmp_path)
    assert train.returncode == 2 and "Traceback" not in train.stderr
    assert train.stderr.count("\n") == 1 and "pip install 'ser-live[train]'" in train.stderr
    report = run(installed / "ser-report", "x.csv", "-o", "r.png", cwd=tmp_path)
    assert report.returncode == 1 and "pip install 'ser-live[plots]'" in report.stderr
    for command in ("ser-serve", "ser-client"):  # the WebSocket server is an extra too
        args = ["--port", "0"] if command == "ser-serve" else ["x.wav"]
        served = run(installed / command, *args, cwd=tmp_path)
        assert served.returncode == 2 and served.stderr.count("\n") == 1, served.stderr
        assert "pip install 'ser-live[serve]'" in served.stderr


# What the wheel asks pip for when installed without extras (issue 21.11): the live path's
# libraries and nothing that only training, reports, benchmarks or the cluster need.
RUNTIME = {
    "numpy",
    "scipy",  # the feature extractor's FFTs and sparse filter banks
    "soundfile",
    "soxr",
    "sounddevice",
    "webrtcvad-wheels",
    "onnxruntime",
    "rich",
    "tomli",  # only on Python 3.10 (tomllib is in the standard library from 3.11)
}
NEVER_AT_RUNTIME = {"matplotlib", "scikit-learn", "skl2onnx", "onnx", "librosa", "torch"}
NEVER_AT_RUNTIME |= {"opensmile", "distributed", "dask", "ctranslate2", "threadpoolctl"}


def test_the_wheel_declares_exactly_the_runtime_requirements(installed, tmp_path):
    probe = (
        "import re; from importlib import metadata\n"
        "for req in metadata.requires('ser-live'):\n"
        "    if 'extra ==' not in req:\n"
        "        print(re.split(r'[ ;<>=!~\\[(]', req, maxsplit=1)[0].lower())\n"
    )
    declared = run(installed / "python", "-c", probe, cwd=tmp_path)
    assert declared.returncode == 0, declared.stderr
    assert set(declared.stdout.split()) == RUNTIME


def test_the_install_holds_the_runtime_and_nothing_else(installed, tmp_path):
    """bench/install_size.py measures the fresh venv; every distribution in it is ser-live's
    requirement, a requirement of one, or the venv's own pip and setuptools."""
    measured = run(sys.executable, PROJECT / "bench" / "install_size.py", "--venv",
                   installed.parent, cwd=tmp_path)
    assert measured.returncode == 0, measured.stderr
    lines = measured.stdout.splitlines()
    assert not [line for line in lines if line.startswith("unexpected:")], measured.stdout
    names = {line.split()[0] for line in lines[1:] if not line.startswith(("runtime", "venv"))}
    assert RUNTIME - {"tomli"} <= names and not names & NEVER_AT_RUNTIME
    assert lines[-2].startswith("runtime_mb: ") and lines[-1].startswith("venv_mb: ")

"""The installed package: its version, and where the shipped defaults live.

- ``version()``: every command's ``--version`` (standard library only, looked up when asked, so
  it answers before numpy or onnxruntime load); a checkout run without installing
  (``PYTHONPATH=.``) has no metadata, and the version is read from its ``pyproject.toml``.
- ``default_config()``: ``config.toml`` and the default model. In a checkout (or an editable
  install) they are the files at the top of the repository, which developers edit and
  ``ser-train`` writes. An installed wheel carries copies as package data in
  ``streamer/_defaults/`` (see ``setup.py``), found with :mod:`importlib.resources`; those win
  when present, so a wheel never reads a stray ``site-packages/config.toml``.
"""

from __future__ import annotations

import re
from importlib import metadata, resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_NAME = "config.toml"
DISTRIBUTION = "ser-live"
PYPROJECT = PROJECT_ROOT / "pyproject.toml"


def packaged_defaults() -> Path | None:
    """The folder of the defaults installed with a wheel, or None in a checkout."""
    folder = resources.files("streamer").joinpath("_defaults")
    # A wheel is installed as plain files, so the Traversable is a real folder on disk.
    if isinstance(folder, Path) and (folder / CONFIG_NAME).is_file():
        return folder
    return None


def default_config() -> Path:
    """The shipped ``config.toml``; relative paths in it resolve against its folder."""
    folder = packaged_defaults()
    return (folder if folder is not None else PROJECT_ROOT) / CONFIG_NAME


SHIPPED_MODELS = {
    "default": "ser-default.onnx",  # Whisper-base encoder front-end: the better label
    "fast": "ser-fast.onnx",  # handcrafted functionals: a few ms per utterance
}


def shipped_model(name: str) -> Path | None:
    """The shipped model called ``name`` ("default" or "fast"), or None for another name."""
    if name not in SHIPPED_MODELS:
        return None
    folder = packaged_defaults()
    return (folder if folder is not None else PROJECT_ROOT) / "models" / SHIPPED_MODELS[name]


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return f"{found.group(1)} (not installed)" if found else "unknown"

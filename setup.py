"""Build hook: a wheel carries the default settings and model as package data.

Developers edit ``config.toml`` and ``ser-train`` writes ``models/ser-default.onnx`` at the top
of the checkout; those stay the only copies in git. A wheel (``pip install .``) has no checkout,
so the build copies them into ``streamer/_defaults/`` (same relative layout, so the config's
``models/ser-default.onnx`` still resolves), where :mod:`streamer.package` finds them with
``importlib.resources``. Editable installs read the checkout's files in place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PACKAGED = (  # paths relative to ROOT and _defaults/
    "config.toml",
    "models/ser-default.onnx",
    "models/ser-fast.onnx",
    "models/whisper-base-b3.int8.onnx",  # the default model's encoder (Whisper-base, MIT)
)


class BuildPyWithDefaults(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "streamer" / "_defaults"
        for name in PACKAGED:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, target / name)


setup(cmdclass={"build_py": BuildPyWithDefaults})

"""Test helpers: what to do when a tool or corpus is missing."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI (CI or SER_REQUIRE_DATA set) every test must really run, so fail."""
    if os.environ.get("SER_REQUIRE_DATA") or os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason, allow_module_level=True)


def require_tool(name: str, package: str | None = None) -> str:
    """Path of an external program, or a skip (a failure in CI) naming the package to install."""
    import shutil

    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} not installed (apt-get install {package or name})")
    return path


def require_module(name: str, extra: str):  # noqa: ANN201 (the module)
    """An optional dependency, or a skip (a failure in CI) naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        skip_or_fail(f"{name} not installed (pip install -e '.[{extra}]')")


def terminal_signals() -> None:
    """``preexec_fn`` for a child that tests stop with signals: Ctrl-C, SIGTERM and SIGHUP at
    a terminal's defaults. A harness started in the background (``cmd &`` from a script, or
    ``nohup``) hands its children SIGINT/SIGHUP ignored, and ser-live rightly keeps an ignored
    signal ignored, so without this a test's Ctrl-C would not reach it."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)

"""Every command's ``--version``: ``<prog> <version>`` from the installed package's metadata.

Standard library only, and looked up when asked, so ``--version`` answers before numpy,
onnxruntime or torch would load. A checkout run without installing (``PYTHONPATH=.``) has no
metadata; then the version is read from the checkout's ``pyproject.toml``.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "ser-live"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


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


class PrintVersion(argparse.Action):
    """``parser.add_argument("--version", action=PrintVersion)``: print, exit 0."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str = argparse.SUPPRESS,
        default: str = argparse.SUPPRESS,
        help: str = "show the version and exit",
    ) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        print(f"{parser.prog} {version()}", file=sys.stdout, flush=True)
        parser.exit(0)

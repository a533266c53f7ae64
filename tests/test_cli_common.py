"""``--version`` on every command: ``<prog> <version>``, exit 0, before any heavy import."""

import re
import subprocess
import sys

import pytest

from streamer.package import version

HEAVY = ("numpy", "scipy", "onnxruntime", "torch", "sklearn", "matplotlib")


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("streamer.live.cli", "ser-live"),
        ("streamer.report.cli", "ser-report"),
        ("streamer.batch.cli", "ser-batch"),
        ("training.cli", "ser-train"),
    ],
)
def test_every_command_prints_its_version_without_loading_numpy(module, prog):
    # -X importtime lists every module the run imported, on stderr.
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == f"{prog} {version()}\n"
    assert re.fullmatch(rf"{prog} \d+\.\d+\S*( \(not installed\))?\n", result.stdout)
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not imported & set(HEAVY)


def test_a_checkout_without_install_reads_pyproject(monkeypatch):
    from importlib import metadata

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert re.fullmatch(r"\d+\.\d+\S* \(not installed\)", version())

"""What `pip install ser-live` (the wheel, no extras) puts on disk, per distribution.

    python bench/install_size.py                 # build the wheel, install it into a fresh venv
    python bench/install_size.py --venv DIR      # measure a venv that already has it installed

Sizes are the files each distribution's RECORD lists (what `pip uninstall` would remove), in MB
of 10^6 bytes; the venv's own pip and setuptools are listed apart, as every venv has them.
Each line says which of ser-live's requirements pulled the distribution in. The last lines are
``runtime_mb: N`` (everything ser-live brings) and ``venv_mb: N`` (the whole site-packages).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "config.toml", "models",
           "streamer", "training")
VENV_OWN = {"pip", "setuptools", "wheel"}

# Run inside the measured venv: every distribution, its size, and its requirements' names.
PROBE = r"""
import json, re, site
from importlib import metadata
from pathlib import Path
root = Path(site.getsitepackages()[0])
out = {}
for dist in metadata.distributions():
    size = 0
    for f in dist.files or ():
        path = Path(dist.locate_file(f))
        if path.is_file():
            size += path.stat().st_size
    needs = []
    for req in dist.requires or ():
        if "extra ==" in req:
            continue
        needs.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0].lower().replace("_", "-"))
    out[dist.metadata["Name"].lower().replace("_", "-")] = [size, needs]
print(json.dumps({"site": str(root), "dists": out}))
"""


def build_and_install(work: Path) -> Path:
    """A fresh venv under ``work`` with the wheel of this tree installed; its python."""
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", dist, source], check=True)
    (wheel,) = dist.glob("ser_live-*.whl")
    subprocess.run([sys.executable, "-m", "venv", work / "venv"], check=True)
    python = work / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", wheel], check=True)
    return python


def pulled_in_by(dists: dict[str, list]) -> dict[str, str]:
    """For each distribution, the requirement of ser-live it comes with."""
    owner: dict[str, str] = {"ser-live": "ser-live"}
    for top in dists["ser-live"][1]:
        stack = [top]
        while stack:
            name = stack.pop()
            if name in owner or name not in dists:
                continue
            owner[name] = top
            stack.extend(dists[name][1])
    return owner


def du_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def report(python: Path) -> int:
    probe = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, check=True)
    found = json.loads(probe.stdout)
    dists = found["dists"]
    if "ser-live" not in dists:
        print(f"ser-live is not installed in {python}", file=sys.stderr)
        return 2
    owner = pulled_in_by(dists)
    rows = sorted(dists.items(), key=lambda item: -item[1][0])
    print(f"{'distribution':<22} {'MB':>7}  pulled in by")
    runtime = 0
    for name, (size, _) in rows:
        by = owner.get(name, "the venv itself" if name in VENV_OWN else "NOT ser-live's")
        runtime += size if name in owner else 0
        print(f"{name:<22} {size / 1e6:7.1f}  {by}")
    for name in sorted(set(dists) - set(owner) - VENV_OWN):
        print(f"unexpected: {name} is installed but no requirement of ser-live needs it")
    print(f"runtime_mb: {runtime / 1e6:.0f}")
    print(f"venv_mb: {du_bytes(Path(found['site'])) / 1e6:.0f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="measure this venv instead of making one")
    args = parser.parse_args()
    if args.venv is not None:
        return report(args.venv / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="ser-install-") as work:
        return report(build_and_install(Path(work)))


if __name__ == "__main__":
    sys.exit(main())

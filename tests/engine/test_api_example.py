"""docs/api.md's example runs as documented (on the generated demo call) and prints what it
says: provisional results, then each utterance's final one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tools import require_tool

from streamer.package import PROJECT_ROOT

API_DOC = PROJECT_ROOT / "docs" / "api.md"
LINE = re.compile(r"^(final  |partial) +[\d.]+- *[\d.]+ s  ([a-z]+)")


def documented_example() -> str:
    text = API_DOC.read_text(encoding="utf-8")
    section = text.split("## An example", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_api_example_runs_and_gives_partials_then_finals(tmp_path: Path):
    require_tool("espeak-ng")
    sample = tmp_path / "out" / "sample.wav"
    made = subprocess.run(
        [sys.executable, "-m", "streamer.live.demo", str(sample)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    (tmp_path / "example.py").write_text(documented_example(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), result.stdout
    kinds = [line.split()[0] for line in lines]
    assert kinds.count("final") == 7  # one per line of the demo call
    assert kinds.count("partial") >= 7  # every line is over a second long
    assert kinds[-1] == "final" and kinds[0] == "partial"

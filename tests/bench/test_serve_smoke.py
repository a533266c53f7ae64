"""bench/serve.py runs end to end (--quick) so it cannot rot; its figures are not judged here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tools import require_module, require_tool

ROOT = Path(__file__).resolve().parents[2]


def test_serve_bench_quick_measures_both_models(tmp_path: Path) -> None:
    require_module("websockets", "serve")
    require_tool("espeak-ng")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "serve.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert set(figures) == {"default", "fast"}
    for values in figures.values():
        assert values["cpu_ms_per_audio_s"] > 0 and values["streams_per_core"] > 0
    assert "streams per core, fast/default" in result.stdout

"""The pause benchmark runs end to end: its tables and the cost ratio line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tools import require_tool

ROOT = Path(__file__).resolve().parents[2]


def test_pause_bench_quick_prints_tables_and_cost_ratio():
    require_tool("espeak-ng")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pauses.py"), "--quick"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"cost_ratio_1s_blocks: \S+ / webrtc2 = \d+\.\d\d", lines[-1]), lines[-1]
    for option in ("webrtc2", "webrtc3", "webrtc2+silero", "webrtc3+silero"):
        assert any(re.match(rf"{re.escape(option)} +30 ms blocks +\d", line) for line in lines)
        shared = [line for line in lines if re.match(rf"{re.escape(option)} +\d+\.\d%", line)]
        assert len(shared) == 2, shared  # the filled and room tables of --quick

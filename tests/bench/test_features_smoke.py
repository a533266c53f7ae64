"""The feature benchmark runs end to end and ends with its summary line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_feature_bench_quick_prints_speedup_line():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "features.py"), "--quick", "--no-opensmile"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"speedup_vs_librosa: \d+(\.\d+)?", lines[-1]), lines[-1]
    assert any(line.startswith("ours_4s_ms: ") for line in lines)


def test_batch_bench_quick_prints_throughput_and_scaling():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "batch.py"), "--quick", "--no-opensmile"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert re.fullmatch(r"scaling_2_vs_1: \d+\.\d\d", lines[-1]), lines[-1]
    rates = [line for line in lines if re.fullmatch(r"workers_[12]_h_per_h: \d+", line)]
    assert len(rates) == 2, lines

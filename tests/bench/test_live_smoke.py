"""bench/live.py runs end to end (--quick) so it cannot rot; its figures are not judged here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from pulse import missing_requirements
from tools import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def test_live_bench_quick_measures_every_figure(tmp_path):
    reason = missing_requirements()
    if reason:
        skip_or_fail(f"bench/live.py needs a PulseAudio server: {reason}")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "live.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "figure" in result.stdout and "CPU, continuous speech" in result.stdout
    fig = json.loads(out.read_text())
    assert fig["utterances_logged"] == fig["utterances_expected"] > 0
    assert len(fig["latency_internal_ms"]) == fig["utterances_logged"]
    assert len(fig["latency_mic_ms"]) == fig["utterances_logged"]
    assert all(v > fig["hangover_ms"] - 50 for v in fig["latency_internal_ms"])
    for key in ("cpu_speech_pct", "cpu_silence_pct", "rss_start_mb", "rss_end_mb", "rss_peak_mb"):
        assert math.isfinite(fig[key]) and fig[key] > 0, key
    assert fig["rss_peak_mb"] >= max(fig["rss_start_mb"], fig["rss_end_mb"])

"""bench/models.py measures the default and the fast model side by side and says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_model_bench_quick_measures_every_figure_for_both_models(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "models.py"), "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert set(figures) == {"default", "fast"}
    keys = {"total_ms", "front_end_ms", "cpu_per_audio_s_pct", "final_p95_ms", "peak_rss_mb",
            "batch_audio_h_per_h", "files_mb", "partials_per_speech_s"}
    for name, values in figures.items():
        assert keys <= set(values), name
        assert all(v > 0 for k, v in values.items() if k != "final_p50_ms"), values
    assert "default/fast" in result.stdout

"""The shipped model: loadable by this ser-live, with honest figures that meet issue 4."""

from __future__ import annotations

import json

import onnx
import pytest

from streamer.classifier import Classifier
from streamer.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "models" / "ser-default.onnx"
TARGET_UA = 0.60  # issue 4: speaker-independent RAVDESS 8-class UA (met by the blend)
FLOOR_UA = 0.55  # what the shipped model reached; a retrain must not fall below it
MAX_BYTES = 5 * 1024 * 1024

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"{SHIPPED} not trained yet")


@pytest.fixture(scope="module")
def meta() -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}


def test_loads_with_the_running_extractor() -> None:
    # A ModelError here means streamer/features changed: retrain (command in models/README.md).
    Classifier(SHIPPED)


def test_figures_are_speaker_independent(meta: dict[str, str]) -> None:
    assert meta["smoke"] == "false"
    assert "by speaker" in meta["cv_method"]
    assert meta["corpora"].split("+")[0] == "ravdess"
    assert len(json.loads(meta["labels"])) == 8
    assert float(meta["cv_ua"]) >= FLOOR_UA  # regression guard: never ship worse than this


def test_meets_the_issue_4_target(meta: dict[str, str]) -> None:
    ua = float(meta["cv_ua"])
    assert ua >= TARGET_UA, f"speaker-independent UA {ua:.3f} is below the issue-4 target"


def test_cross_corpus_above_chance_and_calibrated(meta: dict[str, str]) -> None:
    cross = json.loads(meta["cross_corpus"])
    for result in cross.values():
        assert result["ua"] > 1.0 / len(result["classes"])
    assert float(meta["ece"]) <= float(meta["ece_uncalibrated"]) + 0.02


def test_size() -> None:
    assert SHIPPED.stat().st_size <= MAX_BYTES

"""The shipped model, checked by recomputing what it does (not by re-reading its figures):
it runs through the live pipeline with its normaliser and gate, hears the corpora it was trained
on well above chance, gives no confident row to noise or music, and keeps its labels when the
input gain changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import soxr
from tools import require_tool

from streamer.model.classifier import Classifier
from streamer.settings import PROJECT_ROOT, load_settings
from training.data import audio, corpora
from training.evaluation import robustness

SHIPPED = PROJECT_ROOT / "models" / "ser-default.onnx"
FLOOR_UA = 0.55  # issue 10: actor-independent RAVDESS 8-class CV must stay at or above this
MAX_BYTES = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def meta() -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(SHIPPED)).metadata_props}


@pytest.fixture(scope="module")
def settings():
    return load_settings()


def test_loads_with_its_normaliser_gate_and_threshold() -> None:
    # A ModelError here means streamer/features changed: retrain (command in models/README.md).
    info = Classifier(SHIPPED).info
    assert info.normaliser is not None and info.speech_gate is not None
    assert {"neutral", "happy", "sad", "angry"} <= set(info.labels)
    assert info.uncertain_below is not None and 0.3 <= info.uncertain_below <= 0.95
    assert SHIPPED.stat().st_size <= MAX_BYTES


def test_stored_figures_were_made_the_honest_way(meta: dict[str, str]) -> None:
    assert meta["smoke"] == "false" and "by speaker" in meta["cv_method"]
    assert set(meta["corpora"].split("+")) == {"ravdess", "emodb"}
    assert float(meta["cv_ua"]) >= FLOOR_UA
    assert "loco_ua_ravdess_to_emodb" in meta and "gain_flips" in meta


@pytest.mark.corpus
@pytest.mark.parametrize("corpus", ["ravdess", "emodb"])
def test_hears_its_training_corpora_well_above_chance(data_dir: Path, settings, corpus) -> None:
    """48 clips replayed as one call: a broken front-end, normaliser or backend lands at chance
    (0.25 over neutral/happy/sad/angry)."""
    clips = corpora.read_corpus(data_dir, corpus)
    rng = np.random.default_rng(7)
    basic = [c for c in clips if c.label in ("neutral", "happy", "sad", "angry")]
    chosen = [basic[i] for i in rng.permutation(len(basic))[:48]]
    scores = robustness.call_scores(
        SHIPPED,
        [
            audio.load(c.path, audio.Preparation(settings.vad, settings.segmenter), trim=False)
            for c in chosen
        ],
        [c.label for c in chosen],
        settings.vad,
        settings.segmenter,
    )
    assert scores.matched >= 44
    assert scores.ua_4class >= 0.5, scores


def test_no_confident_emotion_for_noise_hum_tones_chords_or_clicks(settings) -> None:
    result = robustness.non_speech_rows(
        SHIPPED,
        settings.vad,
        settings.segmenter,
        Classifier(SHIPPED).info.uncertain_below,
        seconds=6.0,
        levels_db=(0.0, -25.0),
    )
    assert result.total_confident == 0, result.confident


def test_labels_hold_when_the_input_is_6_db_quieter(settings) -> None:
    require_tool("espeak-ng")
    from streamer.live.demo import LINES, speak

    lines = []
    for line in LINES:
        samples, rate = speak(line.text, line.wpm, line.pitch, line.voice, line.amplitude)
        lines.append(soxr.resample(samples, rate, 16000).astype(np.float32))
    call = robustness.long_call(lines, seed=3)
    flips = robustness.gain_flips(SHIPPED, call, settings.vad, settings.segmenter, (-6.0,))
    assert flips.utterances == len(LINES)
    assert flips.shares["-6 dB"] <= 0.2, flips


def test_metadata_lists_the_columns_it_reads(meta: dict[str, str]) -> None:
    columns = json.loads(meta["columns"])
    assert len(columns) == len(set(columns)) and len(columns) >= 100

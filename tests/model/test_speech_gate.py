"""The range gate of the shipped fast model (fitted on the corpora by ser-train over the
functionals): noise, hum, tones, chords and clicks are refused at any level; speech, also in
noise, passes. The default's linear gate is checked through the engine in
tests/training/test_shipped_model.py."""

from pathlib import Path

import numpy as np
import pytest
import soxr
from tools import require_tool

from streamer import features
from streamer.model.classifier import Classifier
from streamer.model.speech_gate import GateParams, columns_outside, is_speech
from streamer.settings import shipped_or_path
from training.data import nonspeech

SR = 16000
FAST = shipped_or_path(Path("fast"))  # the functionals model: its gate reads functionals


@pytest.fixture(scope="module")
def gate() -> GateParams:
    params = Classifier(FAST).info.speech_gate
    assert params is not None, "the shipped model carries no speech gate"
    return params


@pytest.fixture(scope="module")
def spoken() -> list[np.ndarray]:
    require_tool("espeak-ng")
    from streamer.live.demo import speak

    lines = [("I told you three times already, this is not acceptable", 190, 70),
             ("oh well, I suppose it could have been worse", 130, 35),
             ("thank you so much, that is wonderful news", 170, 60)]
    out = []
    for text, wpm, pitch in lines:
        samples, rate = speak(text, wpm, pitch)
        out.append(soxr.resample(samples, rate, SR).astype(np.float32))
    return out


@pytest.mark.parametrize("name", list(nonspeech.signals(3.0)))
@pytest.mark.parametrize("level_db", [0.0, -30.0])
def test_non_speech_is_refused(gate, name, level_db):
    signal = nonspeech.signals(3.0)[name] * np.float32(10 ** (level_db / 20))
    assert not is_speech(gate, features.extract_vector(signal))


@pytest.mark.parametrize("snr_db", [None, 20.0, 10.0])
def test_speech_passes_also_in_noise(gate, spoken, rng, snr_db):
    for voice in spoken:
        if snr_db is not None:
            noise = rng.standard_normal(len(voice))
            scale = np.sqrt(np.mean(voice**2)) * 10 ** (-snr_db / 20)
            voice = (voice + scale * noise).astype(np.float32)
        assert is_speech(gate, features.extract_vector(voice)), columns_outside(
            gate, features.extract_vector(voice)
        )


def test_gate_reads_only_columns_that_do_not_move_with_gain(gate):
    """Training measured every column's response to input gain (120 corpus clips at 0 and -10
    dB, stored as the normaliser's level coefficients): the gate's columns are flat, or move
    less than 0.1 dB per dB (pitch statistics, through the -65 dBFS voicing floor)."""
    params = Classifier(FAST).info
    full = np.zeros(len(features.FEATURE_NAMES))
    full[list(params.columns)] = params.normaliser.level_coef
    assert np.all(np.abs(full[gate.columns]) < 0.1)
    assert np.any(full != 0.0)  # and the measurement did find the columns that move


def test_count_of_outside_columns_and_round_trip(gate, spoken):
    vector = np.array(features.extract_vector(spoken[0]), dtype=np.float64)
    base = columns_outside(gate, vector)[0]
    far = vector.copy()
    far[gate.columns[:5]] = gate.hi[:5] + 10 * (gate.hi[:5] - gate.lo[:5]) + 1
    assert columns_outside(gate, far)[0] >= base + 5
    back = GateParams.from_json(gate.to_json(), len(features.FEATURE_NAMES))
    assert np.array_equal(back.columns, gate.columns) and back.max_outside == gate.max_outside

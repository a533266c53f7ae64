"""Pauses are heard over a noise floor: words 1 s apart are separate utterances, continuous
speech is not cut more, and the cuts do not move with input gain. Spoken words from espeak-ng
(no corpus needed); the same check on corpus words is in test_pauses_corpus.py."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import soxr
from synth import SR, spoken
from tools import require_tool

from streamer.engine.build import make_segmenter
from streamer.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pause_calls import CallSpec, build_call, score, segment  # noqa: E402


def segmenter(**vad_changes):  # noqa: ANN201
    settings = load_settings()
    return make_segmenter(dataclasses.replace(settings.vad, **vad_changes), settings.segmenter)


@pytest.mark.parametrize("pause_s", [1.0, 1.5])
@pytest.mark.parametrize("floor_dbfs", [None, -60.0, -50.0, -45.0])
def test_words_a_pause_apart_are_separate_utterances(words, pause_s, floor_dbfs):
    call = build_call(words, CallSpec("filled", pause_s, floor_dbfs))
    found = score(segment(segmenter(), call.samples), call.words)
    assert (found.shared, found.missed, found.split) == (0, 0, 0), found


def test_webrtcvad_alone_merges_words_over_a_noise_floor(words):
    """The defect the second opinion fixes (so the test above can fail); the foreground gate
    would part them too, so it is off here."""
    call = build_call(words, CallSpec("filled", 1.5, -50.0))
    bare = segmenter(second_opinion="none", foreground_margin_db=0.0)
    alone = score(segment(bare, call.samples), call.words)
    assert alone.shared >= 3, alone


def test_a_room_floor_15_db_under_the_speech_still_parts_the_words(words):
    spec = CallSpec("room", 1.0, floor_dbfs=-45.0, speech_peak_dbfs=-30.0, colour="pink")
    call = build_call(words, spec)
    found = score(segment(segmenter(), call.samples), call.words)
    assert found.shared == 0 and found.missed <= 1, found


@pytest.mark.parametrize("gain_db", [-20.0, -6.0, 6.0])
def test_cuts_do_not_move_with_input_gain(words, gain_db):
    spec = CallSpec("filled", 1.5, -50.0)
    reference = segment(segmenter(), build_call(words, spec).samples)
    louder = build_call(words, dataclasses.replace(spec, gain_db=gain_db)).samples
    moved = segment(segmenter(), louder)
    assert len(moved) == len(reference) == len(words)
    # Within one 30 ms frame, except where the call starts: 20 dB down, its lead-in floor
    # (-70 dBFS) is under the gain stage's floor (vad.gain_floor_dbfs, -60), so it is boosted
    # less, and before Silero has heard a word webrtcvad alone takes the louder copy's lead-in
    # for speech (as it did before the second opinion): only that first start may move.
    assert moved[0][1] == pytest.approx(reference[0][1], abs=0.031)
    assert np.allclose(moved[1:], reference[1:], atol=0.031)


def test_continuous_speech_is_not_cut_more_than_by_webrtcvad_alone():
    text = ("Good morning, thank you for calling. I am so sorry about that, let me have a look "
            "at your account and see what happened to the files you lost last week.")
    speech = np.concatenate([np.zeros(SR // 2, np.float32), 0.5 * spoken(text, 150),
                             np.zeros(SR, np.float32)])
    alone = segment(segmenter(second_opinion="none"), speech)
    both = segment(segmenter(), speech)
    assert 1 <= len(both) <= len(alone), (both, alone)
    assert both[0][0] == pytest.approx(alone[0][0], abs=0.1)  # starts where it did


def test_the_demo_call_is_still_one_utterance_per_line(tmp_path):
    require_tool("espeak-ng")
    import soundfile as sf

    from streamer.live.demo import LINES, make_sample

    make_sample(tmp_path / "sample.wav")
    samples, rate = sf.read(tmp_path / "sample.wav", dtype="float32")
    audio = soxr.resample(samples, rate, SR).astype(np.float32)
    assert len(segment(segmenter(), audio)) == len(LINES)

"""The foreground gate (vad.foreground_margin_db): other voices 10 dB under the caller do not fill
the caller's pauses, a quiet speaker alone is still heard (the floor is relative), steady noise
alone gives nothing, and the gate itself is causal, chunk- and gain-independent. Spoken words and
background voices from espeak-ng; no corpus needed."""

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
from synth import SR, spoken

from streamer.engine.build import make_segmenter
from streamer.errors import ConfigError
from streamer.settings import load_settings, validate
from streamer.speech.floor import ForegroundGate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pause_calls import CallSpec, Word, build_call, score, segment  # noqa: E402

BACKGROUND = (
    "The train to the airport leaves every twenty minutes from the second platform.",
    "We should have taken the other road, it is always quicker in the morning.",
    "Did you see the match on Sunday, it went on for nearly three hours.",
    "My sister is moving to a new flat near the river next month.",
)


@pytest.fixture(scope="module")
def background() -> np.ndarray:
    """Two other talkers, each reading on without a break, summed: unit RMS."""
    tracks = []
    for voice, wpm in (("en-gb+m3", 170), ("en-us+f2", 160)):
        track = np.concatenate([spoken(line, wpm, voice) for line in BACKGROUND])
        tracks.append(track / np.sqrt(np.mean(track**2)))
    n = min(len(t) for t in tracks)
    mix = tracks[0][:n] + np.roll(tracks[1][:n], n // 3)
    return (mix / np.sqrt(np.mean(mix**2))).astype(np.float32)


def segmenter(**vad_changes):  # noqa: ANN201
    settings = load_settings()
    return make_segmenter(dataclasses.replace(settings.vad, **vad_changes), settings.segmenter)


def speech_rms(samples: np.ndarray) -> float:
    """RMS over the frames within 20 dB of the loudest (the words, not the pauses)."""
    frames = samples[: len(samples) // 480 * 480].reshape(-1, 480).astype(np.float64)
    power = np.mean(frames**2, axis=1)
    return float(np.sqrt(np.mean(power[power > power.max() / 100])))


def with_background(words: list[Word], background: np.ndarray, below_db: float):
    """The words 1 s apart (digital silence), and other talkers ``below_db`` under the words'
    speech level running through the whole call, pauses included."""
    call = build_call(words, CallSpec("filled", 1.0, None))
    level = speech_rms(call.samples) * 10 ** (-below_db / 20)
    noise = np.resize(background, len(call.samples)) * level
    return call, (call.samples + noise).astype(np.float32)


def test_background_talkers_10_db_under_the_caller_do_not_fill_the_pauses(words, background):
    call, samples = with_background(words, background, 10.0)
    on = score(segment(segmenter(), samples), call.words)
    # Measured: 2 of 9 pauses still bridged (by the other talkers' loudest moments), 7 without
    # the gate; every word found, none cut in two.
    assert on.shared <= 3 and on.utterances >= 7 and on.missed == 0 and on.split == 0, on


def test_without_the_gate_the_background_talkers_merge_the_words(words, background):
    """The defect the gate fixes (so the test above can fail)."""
    call, samples = with_background(words, background, 10.0)
    off = score(segment(segmenter(foreground_margin_db=0.0), samples), call.words)
    assert off.shared >= 6, off


@pytest.mark.parametrize("floor_dbfs", [None, -70.0])
def test_a_quiet_speaker_alone_is_still_cut_word_by_word(words, floor_dbfs):
    """The floor is relative: words peaking at -30 dBFS over their own quiet room."""
    call = build_call(words, CallSpec("filled", 1.0, floor_dbfs, speech_peak_dbfs=-30.0))
    on = segment(segmenter(), call.samples)
    off = segment(segmenter(foreground_margin_db=0.0), call.samples)
    found = score(on, call.words)
    assert (found.shared, found.missed, found.split) == (0, 0, 0), found
    assert len(on) == len(off) == len(words)


@pytest.mark.parametrize("colour", ["white", "pink"])
def test_steady_noise_alone_gives_no_utterance(colour):
    from pause_calls import noise

    samples = noise(20 * SR, -40.0, colour, np.random.default_rng(3)).astype(np.float32)
    assert segment(segmenter(), samples) == []


def _frames(seed: int = 0) -> np.ndarray:
    """144 frames (4.32 s): a -50 dBFS floor, then 1 s of a tone burst 20 dB over it (frames
    33.3 to 66.7), then the floor again."""
    rng = np.random.default_rng(seed)
    x = 10 ** (-50 / 20) * rng.standard_normal(144 * 480)
    t = np.arange(SR) / SR
    x[SR : 2 * SR] += 10 ** (-30 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 200 * t)
    return x.astype(np.float32).reshape(-1, 480)


def test_the_gate_opens_on_the_burst_only_and_whatever_the_chunking():
    frames = _frames()
    whole = ForegroundGate(0.03, 6.0, 2.0).judge(frames)
    on = np.flatnonzero(whole)
    assert 33 <= on[0] <= 35 and 66 <= on[-1] <= 74, on  # and the 150-ms hang-over
    for size in (1, 7, 50):
        gate = ForegroundGate(0.03, 6.0, 2.0)
        parts = [gate.judge(frames[i : i + size]) for i in range(0, len(frames), size)]
        assert np.array_equal(np.concatenate(parts), whole), size


def test_the_gate_does_not_move_with_gain_and_survives_bad_samples():
    frames = _frames()
    reference = ForegroundGate(0.03, 6.0, 2.0).judge(frames)
    assert np.array_equal(ForegroundGate(0.03, 6.0, 2.0).judge(frames * 0.05), reference)
    broken = frames.copy()
    broken[100, 3] = np.nan
    broken[101, 5] = np.inf
    decided = ForegroundGate(0.03, 6.0, 2.0).judge(broken)
    assert np.array_equal(decided[:100], reference[:100])
    assert np.array_equal(decided[115:], reference[115:])  # the floor was not dragged down


@pytest.mark.parametrize("changes", [
    {"foreground_margin_db": -1.0}, {"foreground_margin_db": 41.0},
    {"foreground_margin_db": float("nan")}, {"background_window_s": 0.1},
])
def test_bad_gate_settings_are_refused(changes):
    settings = load_settings()
    bad = dataclasses.replace(settings, vad=dataclasses.replace(settings.vad, **changes))
    with pytest.raises(ConfigError):
        validate(bad)

import dataclasses

import numpy as np
import pytest
from synth import SR, speech_and_silence, vowel

from streamer.segmenter import Segmenter
from streamer.settings import load_settings
from streamer.vad import FrameVad


def make_segmenter(**changes) -> Segmenter:
    settings = load_settings()
    seg_settings = dataclasses.replace(settings.segmenter, **changes)
    return Segmenter(FrameVad(SR, 30, 2), seg_settings)


def run_all(segmenter: Segmenter, audio: np.ndarray, chunk: int):
    found = []
    for start in range(0, len(audio), chunk):
        found += segmenter.feed(audio[start : start + chunk])
    return found + segmenter.flush()


PATTERN = [
    ("silence", 1.0),
    ("speech", 1.5),
    ("silence", 1.2),
    ("speech", 2.0),
    ("silence", 1.1),
    ("speech", 0.9),
    ("silence", 1.0),
]


def test_finds_each_utterance_at_its_known_boundaries():
    audio, truth = speech_and_silence(PATTERN)
    found = run_all(make_segmenter(), audio, 480)
    assert len(found) == len(truth)
    pre_roll = 0.3
    for utterance, (start, end) in zip(found, truth, strict=True):
        # Starts one pre-roll before the onset (within two VAD frames); ends at the end of
        # speech, up to ~150 ms late because webrtcvad smooths its own decisions.
        assert utterance.start_s == pytest.approx(start - pre_roll, abs=0.07)
        assert end - 0.03 <= utterance.end_s <= end + 0.15
        assert len(utterance.samples) == pytest.approx(utterance.duration_s * SR, abs=1)


@pytest.mark.parametrize("chunk", [1, 320, 480, 1024, 16000])
def test_chunk_size_does_not_change_segments(chunk):
    audio, _ = speech_and_silence(PATTERN)
    reference = run_all(make_segmenter(), audio, 480)
    found = run_all(make_segmenter(), audio, chunk)
    assert [(u.start_s, u.end_s) for u in found] == [(u.start_s, u.end_s) for u in reference]
    for a, b in zip(found, reference, strict=True):
        assert np.array_equal(a.samples, b.samples)


def test_short_bursts_below_min_length_are_dropped():
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 0.3), ("silence", 1.0)])
    assert run_all(make_segmenter(min_utterance_s=0.5), audio, 480) == []


def test_pause_shorter_than_hangover_keeps_one_utterance():
    audio, _ = speech_and_silence(
        [("silence", 0.5), ("speech", 1.0), ("silence", 0.15), ("speech", 1.0), ("silence", 1.0)]
    )
    found = run_all(make_segmenter(hangover_ms=300), audio, 480)
    assert len(found) == 1
    assert 0.3 + 2.15 - 0.07 <= found[0].duration_s <= 0.3 + 2.15 + 0.15


def test_long_speech_is_split_at_max_length_without_losing_audio():
    audio, truth = speech_and_silence([("silence", 0.5), ("speech", 7.0), ("silence", 1.0)])
    found = run_all(make_segmenter(max_utterance_s=2.0), audio, 480)
    assert len(found) == 4
    assert all(u.duration_s <= 2.0 + 1e-9 for u in found)
    assert [u.split for u in found] == [True, True, True, False]
    for before, after in zip(found, found[1:], strict=False):
        assert after.start_s == pytest.approx(before.end_s)  # contiguous: nothing lost
    assert truth[0][1] - 0.03 <= found[-1].end_s <= truth[0][1] + 0.15


def test_flush_closes_speech_still_in_progress():
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 1.5)])
    segmenter = make_segmenter()
    fed = []
    for start in range(0, len(audio), 480):
        fed += segmenter.feed(audio[start : start + 480])
    assert fed == [] and segmenter.in_speech
    flushed = segmenter.flush()
    assert len(flushed) == 1
    assert 1.97 <= flushed[0].end_s <= 2.0 + 1e-9


def test_reset_forgets_speech_in_progress_and_stream_time():
    segmenter = make_segmenter()
    segmenter.feed(vowel(1.0))
    assert segmenter.in_speech
    segmenter.reset()
    assert not segmenter.in_speech and segmenter.position_s == 0.0
    assert segmenter.flush() == []


def test_silence_and_noise_free_input_give_nothing():
    assert run_all(make_segmenter(), np.zeros(5 * SR, dtype=np.float32), 480) == []

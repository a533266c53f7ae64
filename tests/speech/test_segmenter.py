import dataclasses

import numpy as np
import pytest
from synth import SR, speech_and_silence, vowel

from streamer.settings import load_settings
from streamer.speech.segmenter import Segmenter
from streamer.speech.vad import FrameVad


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
    # 7.3 s in pieces of at most 2 s, each cut in the last quarter before the limit (2 s < 4 s)
    assert 4 <= len(found) <= 5
    assert all(1.5 - 0.03 <= u.duration_s <= 2.0 + 1e-9 for u in found[:-1])
    assert found[-1].duration_s <= 2.0 + 1e-9
    assert [u.split for u in found] == [True] * (len(found) - 1) + [False]
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


def words(n: int, word_s: float, gap_s: float, lead_s: float = 0.5):
    """``n`` words of buzz separated by pauses shorter than the hang-over (one utterance)."""
    pattern = [("silence", lead_s)]
    for _ in range(n):
        pattern += [("speech", word_s), ("silence", gap_s)]
    pattern[-1] = ("silence", 1.0)
    return speech_and_silence(pattern)


def test_a_monologue_is_cut_in_a_pause_not_mid_word():
    # 20 s of words with 0.21 s pauses (the hang-over is 0.3 s): one long utterance to cut
    audio, truth = words(36, 0.35, 0.21)
    gaps = [(a_end, b_start) for (_, a_end), (b_start, _) in zip(truth, truth[1:], strict=False)]
    found = run_all(make_segmenter(max_utterance_s=8.0), audio, 480)
    assert len(found) >= 3
    for cut in found[:-1]:
        assert cut.split and cut.duration_s <= 8.0 + 1e-9
        # the piece ends in a pause: within a frame or two of a word's end, before the next word
        assert any(a - 0.07 <= cut.end_s <= b for a, b in gaps), cut.end_s


def test_without_a_pause_the_cut_falls_on_the_quietest_frame():
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 10.0), ("silence", 1.0)])
    dip = int(0.5 * SR + 7.1 * SR)  # a 60 ms dip of -30 dB in the last second before 8 s
    audio[dip : dip + 960] *= 0.03
    found = run_all(make_segmenter(max_utterance_s=8.0), audio, 480)
    assert found[0].split
    start = found[0].start_s
    assert 7.1 - 0.06 <= found[0].end_s - 0.5 <= 7.1 + 0.09, found[0].end_s - start


def partials_and_finals(chunk: int, every_s: float = 1.0):
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 4.6), ("silence", 1.0)])
    settings = load_settings().segmenter
    segmenter = Segmenter(FrameVad(SR, 30, 2), settings, partial_every_s=every_s)
    return run_all(segmenter, audio, chunk)


def test_partials_grow_every_second_then_the_final_comes():
    found = partials_and_finals(480)
    partials = [u for u in found if not u.final]
    assert found[-1].final and sum(u.final for u in found) == 1
    assert len(partials) == 4  # after 1, 2, 3 and 4 s of the 4.6 s of speech
    assert all(p.start_s == found[-1].start_s for p in partials)
    ends = [p.end_s for p in partials]
    assert ends == sorted(ends) and ends[-1] <= found[-1].end_s
    assert np.diff(ends) == pytest.approx([1.0] * 3, abs=0.031)
    for p in partials:  # each holds the audio so far, exactly
        assert len(p.samples) == round(p.duration_s * SR)


def test_partials_do_not_depend_on_block_size_and_do_not_change_finals():
    small, large = partials_and_finals(480), partials_and_finals(8 * SR)
    assert [(u.start_s, u.end_s, u.final) for u in small] == [
        (u.start_s, u.end_s, u.final) for u in large
    ]
    finals_alone = [u for u in partials_and_finals(480, every_s=0.0)]
    assert [(u.start_s, u.end_s) for u in finals_alone] == [
        (u.start_s, u.end_s) for u in small if u.final
    ]

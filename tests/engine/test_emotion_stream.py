"""EmotionStream, the Python API every command is built on: blocks in, results out."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import soundfile as sf
from synth import SR, speech_and_silence
from tools import require_tool

from streamer.engine.emotion_stream import EmotionStream
from streamer.live.demo import LINES, SIDES, make_sample
from streamer.settings import ConfigError


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The demo call as a two-sided stereo recording: agent left, customer right, turns
    alternating, the other side silent meanwhile."""
    require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("call") / "call.wav"
    make_sample(path, stereo=True)
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    return audio, rate


@pytest.fixture(scope="module")
def shipped():
    from streamer.model.classifier import Classifier
    from streamer.settings import load_settings

    return Classifier(load_settings().model.path)


def feed_all(stream: EmotionStream, audio: np.ndarray, block: int):
    out = []
    for start in range(0, len(audio), block):
        out += stream.feed(audio[start : start + block])
    return out + stream.finish()


def spans(results):
    return [(r.channel, r.start_s, r.end_s, r.label, r.final) for r in results]


def test_each_side_of_a_stereo_call_is_its_own_stream(call, shipped):
    audio, rate = call
    stream = EmotionStream(shipped, sample_rate_hz=rate, channels="each", partial_every_s=0)
    finals = feed_all(stream, audio, 4410)
    assert len(stream.streams) == 2
    sides = [r.channel for r in finals]
    expected = [SIDES.index(line.speaker) + 1 for line in LINES]
    assert sides == expected  # agent (1) and customer (2) alternate as the lines do
    # each utterance lies where its side speaks and the other is silent
    for result in finals:
        seconds = slice(int(result.start_s * rate) + rate // 2, int(result.end_s * rate))
        own, other = audio[seconds, result.channel - 1], audio[seconds, 2 - result.channel]
        assert np.abs(own).max() > 0.05 and np.abs(other).max() == 0.0
    # the results come in stream order across the two sides
    assert [r.end_s for r in finals] == sorted(r.end_s for r in finals)


def test_one_channel_of_a_stereo_call(call, shipped):
    audio, rate = call
    right = feed_all(EmotionStream(shipped, sample_rate_hz=rate, channels=2, partial_every_s=0),
                     audio, 4410)
    customer = sum(line.speaker == "customer" for line in LINES)
    assert len(right) == customer and {r.channel for r in right} == {2}
    both = feed_all(EmotionStream(shipped, sample_rate_hz=rate, channels="each",
                                  partial_every_s=0), audio, 4410)
    assert spans(right) == spans([r for r in both if r.channel == 2])


def test_partials_come_before_their_final_and_leave_finals_unchanged(call, shipped):
    audio, rate = call
    mono = audio.mean(axis=1)
    with_partials = feed_all(EmotionStream(shipped, sample_rate_hz=rate, partial_every_s=1.0),
                             mono, 4410)
    finals_only = feed_all(EmotionStream(shipped, sample_rate_hz=rate, partial_every_s=0),
                           mono, 4410)
    finals = [r for r in with_partials if r.final]
    assert [(r.start_s, r.end_s, r.probabilities) for r in finals] == [
        (r.start_s, r.end_s, r.probabilities) for r in finals_only
    ]
    for final in finals:
        before = [r for r in with_partials if not r.final and r.start_s == final.start_s]
        assert before, "every line is over a second long: at least one provisional result"
        assert all(with_partials.index(p) < with_partials.index(final) for p in before)
        assert all(p.end_s <= final.end_s for p in before)


def test_block_size_does_not_change_the_results(call, shipped):
    audio, rate = call
    first_lines = audio[: 12 * rate].mean(axis=1)  # two lines
    reference = spans(feed_all(EmotionStream(shipped, sample_rate_hz=rate), first_lines, 441))
    assert sum(final for *_, final in reference) >= 2
    for block in (7, 4410 * 3 + 7):  # a few samples at a time; odd-sized chunks
        stream = EmotionStream(shipped, sample_rate_hz=rate)
        assert spans(feed_all(stream, first_lines, block)) == reference


def test_reset_starts_a_new_stream(call, shipped):
    audio, rate = call
    mono = audio.mean(axis=1)
    stream = EmotionStream(shipped, sample_rate_hz=rate, partial_every_s=0)
    first = feed_all(stream, mono, 4410)
    stream.reset()
    again = feed_all(stream, mono, 4410)
    assert [(r.start_s, r.probabilities) for r in again] == [
        (r.start_s, r.probabilities) for r in first
    ]


def test_start_time_gives_wall_times_of_the_recording(linear_model):
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 1.5), ("silence", 1.0)])
    start = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
    stream = EmotionStream(linear_model, start_time=start, partial_every_s=0)
    (result,) = feed_all(stream, audio, 480)
    closed = result.end_s + 0.3  # closed by the 300 ms hang-over
    assert result.wall_time == start + timedelta(seconds=closed)


def test_bad_arguments_and_blocks_are_refused_clearly(linear_model):
    with pytest.raises(ConfigError, match="channels must be"):
        EmotionStream(linear_model, channels=0)
    with pytest.raises(ConfigError, match="partial_every_s"):
        EmotionStream(linear_model, partial_every_s=-1)
    stream = EmotionStream(linear_model, channels=3)
    with pytest.raises(ValueError, match="channel 3 asked for, but blocks have 2"):
        stream.feed(np.zeros((480, 2), np.float32))
    stream = EmotionStream(linear_model, channels="each")
    stream.feed(np.zeros((480, 2), np.float32))
    with pytest.raises(ValueError, match="from 2 to 3 channels"):
        stream.feed(np.zeros((480, 3), np.float32))


def test_tiny_blocks_at_another_rate_are_accepted(linear_model):
    stream = EmotionStream(linear_model, sample_rate_hz=44_100)
    for _ in range(50):  # blocks the resampler answers with no samples at first
        stream.feed(np.zeros(3, np.float32))
    assert stream.finish() == []
    assert SR == 16000

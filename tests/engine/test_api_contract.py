"""The Python API's contract (docs/api.md; issues 21.6, 22.14, 22.19): what EmotionStream takes,
what it refuses and how, and what its results carry."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import soundfile as sf
from onnx_factory import write_linear_model
from synth import speech_and_silence
from tools import require_tool

from streamer import EmotionStream
from streamer.emotions import shown_label
from streamer.errors import ConfigError, SerError, StreamUsageError
from streamer.results import Prediction

PATTERN = [("silence", 0.5), ("speech", 1.5), ("silence", 0.8), ("speech", 1.2), ("silence", 0.6)]


@pytest.fixture(scope="module")
def demo_call(tmp_path_factory):
    """The espeak-ng demo call, mono: real speech, where the shipped model's labels move with
    the level it hears."""
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    path = tmp_path_factory.mktemp("demo") / "sample.wav"
    make_sample(path)
    audio, rate = sf.read(path, dtype="float32")
    return audio, rate


def results_of(stream: EmotionStream, audio: np.ndarray, block: int = 4096) -> list[Prediction]:
    out = []
    for start in range(0, len(audio), block):
        out += stream.feed(audio[start : start + block])
    return [r for r in out + stream.finish() if r.final]


def test_int16_and_int32_blocks_are_scaled_like_float(demo_call):
    """int16 blocks were taken as floats of +-32768 and changed the labels."""
    audio, rate = demo_call
    as_float = results_of(EmotionStream(sample_rate_hz=rate, partial_every_s=0), audio)
    pcm16 = np.round(np.clip(audio, -1, 1 - 2**-15) * 2**15).astype(np.int16)
    pcm32 = pcm16.astype(np.int32) << 16  # the same samples, 32-bit
    for pcm in (pcm16, pcm32):
        got = results_of(EmotionStream(sample_rate_hz=rate, partial_every_s=0), pcm)
        assert [r.label for r in got] == [r.label for r in as_float]
        for a, b in zip(got, as_float, strict=True):
            assert a.start_s == pytest.approx(b.start_s, abs=0.031)
            assert np.allclose(a.probabilities, b.probabilities, atol=0.02)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int64, np.complex64, bool])
def test_other_sample_types_are_refused_by_name(linear_model, dtype):
    stream = EmotionStream(linear_model)
    with pytest.raises(TypeError, match=np.dtype(dtype).name):
        stream.feed(np.zeros(480, dtype=dtype))
    stream.feed(np.zeros(480, np.float64))  # float64 is fine (and the stream still usable)


def test_a_block_of_another_shape_is_a_stream_usage_error(linear_model):
    stream = EmotionStream(linear_model)
    with pytest.raises(StreamUsageError, match=r"\(n,\) or \(n, channels\)"):
        stream.feed(np.zeros((10, 2, 2), np.float32))


def test_feeding_after_finish_is_a_clear_error_until_reset(linear_model):
    """It raised the resampler's RuntimeError (at another rate) or went on silently."""
    audio, _ = speech_and_silence(PATTERN, sr=44_100)
    stream = EmotionStream(linear_model, sample_rate_hz=44_100, partial_every_s=0)
    first = results_of(stream, audio)
    for call in (lambda: stream.feed(audio[:480]), stream.finish):
        with pytest.raises(StreamUsageError, match=r"after finish\(\); call reset\(\)"):
            call()
    stream.reset()
    again = results_of(stream, audio)
    assert [(r.start_s, r.label) for r in again] == [(r.start_s, r.label) for r in first]


def test_a_second_feeding_thread_is_refused_not_interleaved(linear_model):
    """Two threads feeding one stream gave 13 finals for 7 utterances; the second is refused
    while the first is inside feed(), and the first goes on unharmed."""
    audio, _ = speech_and_silence(PATTERN)
    stream = EmotionStream(linear_model, partial_every_s=0)
    inside, release = threading.Event(), threading.Event()
    channel = stream.streams[0]
    real_feed = channel.feed

    def slow_feed(block):
        inside.set()
        release.wait(10)
        return real_feed(block)

    channel.feed = slow_feed
    first: list = []
    worker = threading.Thread(target=lambda: first.extend(stream.feed(audio[:16000])))
    worker.start()
    assert inside.wait(10)
    with pytest.raises(StreamUsageError, match="another thread is feeding the same stream"):
        stream.feed(audio[16000:32000])
    with pytest.raises(StreamUsageError):
        stream.finish()
    release.set()
    worker.join(10)
    channel.feed = real_feed
    rest = [r for r in stream.feed(audio[16000:]) + stream.finish() if r.final]
    assert len([r for r in first if r.final] + rest) == 2  # each utterance once


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        (1, "must be 8000..384000"),
        (7_999, "must be 8000..384000"),
        (384_001, "must be 8000..384000"),
        (True, "whole number of Hz"),
        (16_000.0, "whole number of Hz"),
        ("16000", "whole number of Hz"),
    ],
)
def test_sample_rates_are_checked_at_the_boundary(linear_model, rate, message):
    with pytest.raises(ConfigError, match=message):
        EmotionStream(linear_model, sample_rate_hz=rate)


@pytest.mark.parametrize("rate", [8_000, 384_000, np.int32(48_000)])
def test_the_edges_of_the_rate_range_work(linear_model, rate):
    stream = EmotionStream(linear_model, sample_rate_hz=rate)
    assert stream.sample_rate_hz == int(rate)
    stream.feed(np.zeros(int(rate) // 10, np.float32))
    assert stream.finish() == []


@pytest.mark.parametrize("rate", ["1", "True"])
def test_a_bad_rate_does_not_crash_the_interpreter(linear_model, rate):
    """EmotionStream(sample_rate_hz=1) and =True segfaulted (rc 139) in the resampler."""
    code = (
        "import numpy as np\n"
        "from streamer import EmotionStream\n"
        "from streamer.errors import ConfigError\n"
        "try:\n"
        f"    s = EmotionStream({str(linear_model)!r}, sample_rate_hz={rate})\n"
        "    s.feed(np.zeros(4800, np.float32)); s.finish()\n"
        "except ConfigError as exc:\n"
        "    print('refused:', exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stdout.startswith("refused: sample_rate_hz must be")


def test_the_uncertain_threshold_is_readable_and_settable(tmp_path):
    own = write_linear_model(tmp_path / "own.onnx", extra={"uncertain_below": "0.6"})
    plain = write_linear_model(tmp_path / "plain.onnx")
    assert EmotionStream(own).uncertain_below == 0.6  # the model's own choice
    stream = EmotionStream(plain)
    assert stream.uncertain_below == stream.settings.ui.uncertain_below  # no choice: the setting
    stream.uncertain_below = 0.75
    assert stream.uncertain_below == 0.75
    for bad in (-0.1, 1.5, float("nan"), "0.5", None, True):
        with pytest.raises(ConfigError, match="uncertain_below must be 0..1"):
            stream.uncertain_below = bad
    assert stream.uncertain_below == 0.75


def test_results_carry_timezone_aware_datetimes(linear_model):
    audio, _ = speech_and_silence(PATTERN)
    before = datetime.now(timezone.utc)
    (first, *_) = results_of(EmotionStream(linear_model, partial_every_s=0), audio)
    assert isinstance(first.wall_time, datetime) and first.wall_time.tzinfo is not None
    assert before <= first.wall_time <= datetime.now(timezone.utc)
    start = datetime(2026, 5, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    stream = EmotionStream(linear_model, start_time=start, partial_every_s=0)
    (first, *_) = results_of(stream, audio)
    assert first.wall_time == start + timedelta(seconds=first.end_s + 0.3)  # + the hang-over
    assert shown_label(first, 0.4) in (first.label, "uncertain")


def test_a_start_time_at_the_end_of_the_calendar_is_one_clear_error(linear_model):
    """start + stream time past 9999-12-31 raised datetime's OverflowError mid-stream."""
    audio, _ = speech_and_silence(PATTERN)
    late = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    stream = EmotionStream(linear_model, start_time=late, partial_every_s=0)
    with pytest.raises(ConfigError, match="runs past the last date a row can carry") as raised:
        results_of(stream, audio)
    assert isinstance(raised.value, SerError) and "\n" not in str(raised.value)

"""runner.run: how a run ends (input end, stop, time limit, input failure) and what it reports."""

import threading
import tracemalloc

import numpy as np
import pytest
from synth import SR, speech_and_silence

from streamer.engine.channel_stream import ChannelStream
from streamer.engine.run import InputLost, run
from streamer.settings import load_settings
from streamer.sources import SourceError, SourceStats
from streamer.speech.segmenter import Segmenter
from streamer.speech.vad import vad_from_settings

PATTERN = [
    ("silence", 0.8),
    ("speech", 1.5),
    ("silence", 1.0),
    ("speech", 2.0),
    ("silence", 1.0),
]
BLOCK = 480


class InstantModel:
    """Answers at once; its "probabilities" encode the utterance length (pre-roll included)."""

    labels = ("short", "long")

    def predict(self, samples: np.ndarray) -> np.ndarray:
        return np.array([0.9, 0.1]) if len(samples) < 2.05 * SR else np.array([0.1, 0.9])


class ListSink:
    def __init__(self) -> None:
        self.rows = []
        self.closed = False

    def write(self, prediction) -> None:
        self.rows.append(prediction)

    def close(self) -> None:
        self.closed = True


class ScriptedSource:
    """Yields ``audio`` in blocks; after ``fail_at_s`` raises, after ``stop_at_s`` sets stop."""

    description = "scripted"

    def __init__(self, audio, fail_at_s=None, stop_at_s=None, stats=None, forever=False):
        self.audio = audio
        self.fail_at = None if fail_at_s is None else int(fail_at_s * SR)
        self.stop_at = None if stop_at_s is None else int(stop_at_s * SR)
        self.stats = stats or SourceStats()
        self.forever = forever

    def blocks(self, stop):
        position = 0
        while not stop.is_set():
            if self.fail_at is not None and position >= self.fail_at:
                raise SourceError("audio input lost: scripted stopped delivering audio")
            if self.stop_at is not None and position >= self.stop_at:
                stop.set()  # what the SIGINT handler does
                return
            block = self.audio[position : position + BLOCK]
            if len(block) == 0:
                if not self.forever:
                    return
                block = np.zeros(BLOCK, np.float32)
                stop.wait(0.005)
            position += len(block)
            yield block

    def close(self) -> None:
        pass


def make_pipeline(clock=None, **segmenter_overrides) -> ChannelStream:
    settings = load_settings(overrides={"segmenter": segmenter_overrides})
    vad = vad_from_settings(SR, settings.vad)
    kwargs = {} if clock is None else {"clock": clock}
    return ChannelStream(Segmenter(vad, settings.segmenter), InstantModel(), **kwargs)


@pytest.fixture(scope="module")
def speech():
    return speech_and_silence(PATTERN)


def test_end_of_input_classifies_every_utterance(speech):
    audio, truth = speech
    sink = ListSink()
    summary = run(ScriptedSource(audio), make_pipeline(), [sink], threading.Event())
    assert [p.label for p in sink.rows] == ["short", "long"]
    for row, (start, end) in zip(sink.rows, truth, strict=True):
        assert row.start_s <= start and abs(row.end_s - end) <= 0.12
    assert summary.utterances == 2 and summary.ended_by == "end of input"
    assert summary.audio_s == pytest.approx(len(audio) / SR, abs=BLOCK / SR)


@pytest.mark.parametrize(("classify_pending", "rows"), [(True, 2), (False, 1)])
def test_stop_mid_utterance_classifies_or_drops_it(speech, classify_pending, rows):
    audio, truth = speech
    sink = ListSink()
    stop_at = truth[1][0] + 1.2  # 1.2 s into the second utterance
    summary = run(
        ScriptedSource(audio, stop_at_s=stop_at), make_pipeline(), [sink], threading.Event(),
        classify_pending=classify_pending,
    )
    assert len(sink.rows) == rows and summary.utterances == rows
    assert summary.ended_by == "stop request"
    if classify_pending:  # what was heard of it, up to the stop
        assert sink.rows[1].start_s <= truth[1][0]
        assert sink.rows[1].end_s == pytest.approx(stop_at, abs=0.1)


def test_input_failure_keeps_everything_heard_and_reports_the_run(speech):
    audio, truth = speech
    sink = ListSink()
    fail_at = truth[1][0] + 1.0
    with pytest.raises(InputLost) as caught:
        run(ScriptedSource(audio, fail_at_s=fail_at), make_pipeline(), [sink], threading.Event(),
            classify_pending=False)
    # The utterance the failure cut short is what was heard: classified even with drop-pending.
    assert len(sink.rows) == 2
    assert sink.rows[1].end_s == pytest.approx(fail_at, abs=0.1)
    assert str(caught.value) == "audio input lost: scripted stopped delivering audio"
    summary = caught.value.summary
    assert summary.utterances == 2 and summary.ended_by == "input failure"
    assert "2 utterances" in summary.describe() and "input failure" in summary.describe()


def test_duration_ends_an_endless_input(speech):
    sink = ListSink()
    summary = run(
        ScriptedSource(np.zeros(0, np.float32), forever=True), make_pipeline(), [sink],
        threading.Event(), duration_s=0.3,
    )
    assert summary.ended_by == "time limit" and summary.utterances == 0


def test_overruns_and_drops_reach_the_summary(speech):
    audio, _ = speech
    stats = SourceStats(overruns=3, dropped_s=0.25, device_overflows=2)
    summary = run(ScriptedSource(audio, stats=stats), make_pipeline(), [], threading.Event())
    assert (summary.overruns, summary.dropped_s, summary.device_overflows) == (3, 0.25, 2)
    text = summary.describe()
    assert "overruns 3 (0.25 s dropped)" in text and "device overflows 2" in text


class StreamClock:
    """A clock that advances with the audio, as it does for a microphone: each block arrives
    when its last sample has been captured, and the model answers instantly."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class PacedSource(ScriptedSource):
    def __init__(self, audio, clock):
        super().__init__(audio)
        self.clock = clock

    def blocks(self, stop):
        for block in super().blocks(stop):
            self.clock.now += len(block) / SR
            yield block


@pytest.mark.parametrize("hangover_ms", [150, 300, 600])
def test_latency_is_the_hangover_for_an_instant_model(speech, hangover_ms):
    audio, _ = speech
    clock = StreamClock()
    sink = ListSink()
    summary = run(
        PacedSource(audio, clock), make_pipeline(clock, hangover_ms=hangover_ms), [sink],
        threading.Event(),
    )
    assert len(sink.rows) == 2
    for row in sink.rows:  # end of speech -> row: the silence that closes it, nothing more
        assert row.latency_ms == pytest.approx(hangover_ms, abs=1000 * BLOCK / SR)
    assert summary.latency_median_ms == pytest.approx(hangover_ms, abs=1000 * BLOCK / SR)


def test_hours_of_silence_keep_memory_flat_and_latency_right(speech):
    audio, _ = speech
    clock = StreamClock()
    quiet = np.zeros(12_000 * BLOCK, np.float32)  # 6 minutes of silence before the speech
    source = PacedSource(np.concatenate([quiet, audio]), clock)
    pipeline = make_pipeline(clock)
    sink = ListSink()
    sizes = []
    stop = threading.Event()
    blocks = source.blocks(stop)
    tracemalloc.start()
    try:
        for i, block in enumerate(blocks):
            for prediction in pipeline.feed(block):
                sink.write(prediction)
            if i in (2_000, 11_000):
                sizes.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    for prediction in pipeline.finish():
        sink.write(prediction)
    # 9000 blocks later: no per-block bookkeeping left behind (it would be ~1 MB).
    assert sizes[1] - sizes[0] < 100_000
    assert len(sink.rows) == 2
    assert all(row.latency_ms == pytest.approx(300, abs=30) for row in sink.rows)


def test_latency_is_called_backlog_only_on_the_clock_with_input_ahead_of_it():
    from streamer.engine.timebase import latency_name

    assert latency_name(60.0, 60.5, on_clock=True) == "latency"  # a microphone, a paced replay
    assert latency_name(60.0, 2.0, on_clock=True) == "backlog"  # a pipe read as fast as it comes
    assert latency_name(60.0, 2.0, on_clock=False) == "latency"  # stream time: a fast file replay
    assert latency_name(0.0, 0.0, on_clock=True) == "latency"

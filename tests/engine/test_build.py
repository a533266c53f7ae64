"""A file replayed through the shared pipeline builder: big chunks give the rows 30 ms blocks
give, and a fast replay's rows are the same on every run."""

import dataclasses
import threading
from datetime import timedelta

import numpy as np
import pytest
import soundfile as sf
from synth import SR, speech_and_silence

from streamer.engine.build import stream_for
from streamer.engine.run import run
from streamer.model.classifier import Classifier
from streamer.settings import load_settings
from streamer.sinks.rows import row_values
from streamer.sources.file import FileSource

PATTERN = [
    ("silence", 0.7),
    ("speech", 1.4),
    ("silence", 0.9),
    ("speech", 9.5),
    ("silence", 0.6),
    ("speech", 2.1),
    ("silence", 0.4),
]  # the 9.5 s one is split at max_utterance_s


class Rows:
    def __init__(self):
        self.rows = []

    def write(self, prediction):
        self.rows.append(row_values(prediction, uncertain_below=0.4))

    def close(self):
        pass


def gate_off(settings):
    """The 9.5-s synthetic vowel is one steady level with no dips: after vad.background_window_s
    the foreground gate takes it for the background (as it should a steady sound), which is
    not what these tests are about (chunking, stamps)."""
    return dataclasses.replace(settings, vad=dataclasses.replace(settings.vad,
                                                                foreground_margin_db=0.0))


def replay(path, model, chunk_s):
    settings = gate_off(load_settings())
    source = FileSource(path, settings.audio.block_ms, realtime=False, chunk_s=chunk_s)
    stream = stream_for(source, model, settings, show_partials=False)
    sink = Rows()
    run(source, stream, [sink], threading.Event())
    source.close()
    return sink.rows


@pytest.fixture(scope="module")
def model(linear_model):
    return Classifier(linear_model)


@pytest.mark.parametrize(("rate", "channels"), [(16000, 1), (44100, 2)])
def test_large_chunks_give_the_rows_of_30_ms_blocks(tmp_path, model, rate, channels):
    audio, truth = speech_and_silence(PATTERN, sr=rate)
    path = tmp_path / "call.wav"
    sf.write(path, np.repeat(audio[:, None], channels, axis=1), rate, subtype="PCM_16")
    small = replay(path, model, chunk_s=0.03)
    big = replay(path, model, chunk_s=8.0)
    assert len(big) == len(truth) + 1  # the long one is split in two
    assert big == small


def test_fast_replay_rows_carry_stream_time(tmp_path, model):
    audio, _ = speech_and_silence(PATTERN)
    path = tmp_path / "call.wav"
    sf.write(path, audio, SR)
    first = replay(path, model, chunk_s=8.0)
    assert replay(path, model, chunk_s=1.0) == first  # wall_time and latency_ms included
    settings = load_settings()
    latencies = [row[-3] for row in first]  # latency_ms, then valence and arousal
    # A row closed by silence waits the hang-over; a split at the quietest frame of the last
    # second before max_utterance_s waits for the audio after its cut (at most 1 s).
    hangover = settings.segmenter.hangover_ms
    assert [latencies[0], latencies[2], latencies[3]] == [hangover] * 3
    assert 0.0 <= latencies[1] <= 1000.0
    source = FileSource(path, 30, realtime=False)
    start = source.recording_start  # the file's mtime less its duration
    source.close()
    end_s, hangover_s = first[0][1], settings.segmenter.hangover_ms / 1000
    expected = start + timedelta(seconds=end_s + hangover_s)
    assert first[0][2] == expected.isoformat(timespec="milliseconds")

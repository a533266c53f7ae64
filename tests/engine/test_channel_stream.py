"""The pipeline every source feeds: chunk-size invariance, reset, latency bookkeeping."""

import numpy as np
import pytest
from synth import SR, speech_and_silence

from streamer.engine.channel_stream import ChannelStream
from streamer.model.classifier import Classifier
from streamer.settings import load_settings
from streamer.speech.segmenter import Segmenter
from streamer.speech.vad import vad_from_settings

PATTERN = [("silence", 0.8), ("speech", 1.4), ("silence", 1.0), ("speech", 1.8), ("silence", 1.0)]


def make_pipeline(model_path, clock=None) -> ChannelStream:
    settings = load_settings()
    vad = vad_from_settings(SR, settings.vad)
    kwargs = {"clock": clock} if clock else {}
    return ChannelStream(Segmenter(vad, settings.segmenter), Classifier(model_path), **kwargs)


def replay(pipeline: ChannelStream, audio: np.ndarray, chunk: int):
    out = []
    for start in range(0, len(audio), chunk):
        out += pipeline.feed(audio[start : start + chunk])
    return out + pipeline.finish()


@pytest.mark.parametrize("chunk", [320, 480, 1024])
def test_same_segments_and_labels_whatever_the_chunk_size(linear_model, chunk):
    audio, truth = speech_and_silence(PATTERN)
    reference = replay(make_pipeline(linear_model), audio, 480)
    found = replay(make_pipeline(linear_model), audio, chunk)
    assert len(found) == len(truth)
    assert [(p.start_s, p.end_s, p.label) for p in found] == [
        (p.start_s, p.end_s, p.label) for p in reference
    ]
    for a, b in zip(found, reference, strict=True):
        np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=1e-5)


def test_reset_makes_a_second_replay_identical(linear_model):
    audio, _ = speech_and_silence(PATTERN)
    pipeline = make_pipeline(linear_model)
    first = replay(pipeline, audio, 480)
    pipeline.feed(audio[: int(1.5 * SR)])  # leave an utterance half-heard
    pipeline.reset()
    second = replay(pipeline, audio, 480)
    assert [(p.start_s, p.end_s, p.label) for p in second] == [
        (p.start_s, p.end_s, p.label) for p in first
    ]
    assert pipeline.snapshot().utterances == len(second)
    assert pipeline.snapshot().position_s == pytest.approx(len(audio) / SR)


def test_latency_runs_from_end_of_speech_arrival_to_prediction(linear_model):
    # A fake clock that advances with the audio, as a microphone would deliver it.
    audio, truth = speech_and_silence(PATTERN)
    now = [0.0]
    pipeline = make_pipeline(linear_model, clock=lambda: now[0])
    predictions = []
    for start in range(0, len(audio), 480):
        block = audio[start : start + 480]
        now[0] = (start + len(block)) / SR
        predictions += pipeline.feed(block)
    hangover_s = load_settings().segmenter.hangover_ms / 1000
    assert len(predictions) == len(truth)
    for prediction in predictions:
        # The row can only come once the hang-over has passed; with a frozen clock during
        # classification, latency is that wait plus at most one block.
        assert hangover_s * 1000 - 1 <= prediction.latency_ms <= (hangover_s + 0.061) * 1000


def test_snapshot_reports_speech_state_and_level(linear_model):
    pipeline = make_pipeline(linear_model)
    audio, _ = speech_and_silence([("silence", 0.5), ("speech", 1.0)])
    for start in range(0, len(audio), 480):
        pipeline.feed(audio[start : start + 480])
    snap = pipeline.snapshot()
    assert snap.in_speech
    assert snap.speech_s > 0.5
    tone = 0.5 * np.sin(2 * np.pi * 500 * np.arange(480) / SR).astype(np.float32)
    pipeline.feed(tone)
    assert pipeline.snapshot().level_dbfs == pytest.approx(-9.03, abs=0.05)  # 0.5 peak sine

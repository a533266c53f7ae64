"""Silero VAD, webrtcvad's second opinion: the shipped model, streaming, and when it joins."""

import hashlib
import shutil

import numpy as np
import pytest
import soxr
from synth import SR, speech_and_silence
from tools import require_tool

from streamer.errors import ModelError
from streamer.speech import silero
from streamer.speech.silero import SileroOpinion, SileroVad


@pytest.fixture(scope="module")
def spoken() -> np.ndarray:
    """Half a second of silence, a spoken sentence (espeak-ng), half a second of silence."""
    require_tool("espeak-ng")
    from streamer.live.demo import speak

    samples, rate = speak("Thank you for calling, how can I help you today?", 160, 50)
    voice = soxr.resample(samples, rate, SR).astype(np.float32)
    pad = np.zeros(SR // 2, np.float32)
    return np.concatenate([pad, voice, pad])


def test_the_shipped_model_is_the_pinned_file_with_its_licence():
    path = silero.model_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == silero.MODEL_SHA256
    licence = (path.parent / "LICENSE-silero-vad.txt").read_text()
    assert "MIT License" in licence and "Silero Team" in licence


def test_a_damaged_model_file_is_refused(tmp_path):
    damaged = tmp_path / silero.MODEL_FILE
    shutil.copyfile(silero.model_path(), damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="damaged"):
        SileroVad(damaged)
    with pytest.raises(ModelError, match="missing"):
        SileroVad(tmp_path / "absent.onnx")


def test_speech_is_heard_and_noise_is_not(spoken, rng):
    speech = SileroVad().feed(spoken)
    assert np.mean(speech[20:-20] >= 0.5) > 0.6  # the sentence (pauses between words aside)
    assert speech[:10].max() < 0.2 and speech[-5:].max() < 0.5  # the silence around it
    noise = (0.01 * rng.standard_normal(5 * SR)).astype(np.float32)
    assert SileroVad().feed(noise).max() < 0.2


@pytest.mark.parametrize("chunk", [1, 480, 513, 7777])
def test_probabilities_do_not_depend_on_chunk_size(spoken, chunk):
    whole = SileroVad().feed(spoken)
    vad = SileroVad()
    starts = range(0, len(spoken), chunk)
    pieces = np.concatenate([vad.feed(spoken[at : at + chunk]) for at in starts])
    assert len(whole) == len(pieces) == len(spoken) // silero.WINDOW
    assert np.array_equal(whole, pieces)


def test_reset_starts_the_stream_again(spoken):
    vad = SileroVad()
    first = vad.feed(spoken)
    vad.feed(spoken[: SR // 3])
    vad.reset()
    assert np.array_equal(vad.feed(spoken), first)


def frames_of(samples: np.ndarray) -> np.ndarray:
    n = len(samples) // 480
    return samples[: n * 480].reshape(n, 480)


def test_the_opinion_abstains_on_buzz_and_joins_on_speech(spoken):
    buzz, _ = speech_and_silence([("silence", 0.5), ("speech", 2.0), ("silence", 1.0)])
    opinion = SileroOpinion(480, 0.5, 0.35, join_after_ms=320)
    assert opinion.judge(frames_of(buzz)).all() and not opinion.heard_speech
    decisions = opinion.judge(frames_of(spoken))
    assert opinion.heard_speech
    assert not decisions[-10:].any()  # the silence after the sentence, once it has joined
    assert decisions.mean() > 0.4
    opinion.reset()
    assert not opinion.heard_speech and opinion.judge(frames_of(buzz)).all()


def test_the_opinion_does_not_depend_on_chunk_size(spoken):
    audio = np.concatenate([spoken, spoken])
    whole = SileroOpinion(480, 0.5, 0.35, 320).judge(frames_of(audio))
    opinion = SileroOpinion(480, 0.5, 0.35, 320)
    frames = frames_of(audio)
    pieces = np.concatenate([opinion.judge(frames[at : at + 3]) for at in range(0, len(frames), 3)])
    assert np.array_equal(whole, pieces)

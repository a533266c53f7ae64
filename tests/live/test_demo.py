"""The demo call (streamer.live.demo): generated with espeak-ng, deterministic, short; mono for
`make demo`, stereo (agent left, customer right) for a call analysed side by side."""

import numpy as np
import pytest
import soundfile as sf
from tools import require_tool

from streamer.live.demo import AGENT, CUSTOMER, LINES, SampleError, make_sample, speak

FRAME_S = 0.05


@pytest.fixture(scope="module")
def stereo(tmp_path_factory):
    require_tool("espeak-ng")
    path = tmp_path_factory.mktemp("sample") / "call.wav"
    duration = make_sample(path, stereo=True)
    return path, duration


def _turns(audio: np.ndarray, rate: int) -> list[tuple[int, float, float]]:
    """(loud channel, start s, end s) of each stretch of sound, from 50 ms frames."""
    frame = int(FRAME_S * rate)
    n = len(audio) // frame
    loud = np.abs(audio[: n * frame]).reshape(n, frame, -1).max(axis=1) > 1e-3  # (frames, ch)
    turns: list[tuple[int, float, float]] = []
    for i, row in enumerate(loud):
        if not row.any():
            continue
        assert row.sum() == 1, f"both channels sound at {i * FRAME_S:.2f} s"
        channel = int(np.argmax(row))
        # A line's own pauses (commas, sentence ends) last well under the 1.5 s between lines.
        if turns and turns[-1][0] == channel and i * FRAME_S - turns[-1][2] < 1.0:
            turns[-1] = (channel, turns[-1][1], (i + 1) * FRAME_S)
        else:
            turns.append((channel, i * FRAME_S, (i + 1) * FRAME_S))
    return turns


def test_the_demo_is_a_short_call_with_both_sides_and_a_range_of_delivery():
    assert {line.speaker for line in LINES} == {AGENT, CUSTOMER}
    assert len({(line.wpm, line.pitch, line.amplitude) for line in LINES}) == len(LINES)
    assert len({line.voice for line in LINES}) == 2  # one voice per side


def test_stereo_call_turns_alternate_between_sides_silent_on_the_other(stereo):
    path, duration = stereo
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    assert audio.shape[1] == 2 and len(audio) / rate == pytest.approx(duration)
    assert duration < 40
    turns = _turns(audio, rate)
    # One stretch of sound per line, on its speaker's side (agent left = channel 0), in order.
    assert [channel for channel, _, _ in turns] == [
        0 if line.speaker == AGENT else 1 for line in LINES
    ]
    assert len({channel for channel, _, _ in turns}) == 2
    for (_, _, end), (_, start, _) in zip(turns, turns[1:], strict=False):
        assert start - end > 1.2  # the gap between lines: silence on both sides


def test_mono_sample_holds_the_same_call_on_one_channel(stereo, tmp_path):
    path, duration = stereo
    mono = tmp_path / "mono.wav"
    assert make_sample(mono) == pytest.approx(duration)
    one, rate = sf.read(mono, dtype="float32", always_2d=True)
    two, _ = sf.read(path, dtype="float32", always_2d=True)
    assert one.shape[1] == 1
    np.testing.assert_array_equal(one[:, 0], two.sum(axis=1))  # only one side sounds at a time


def test_the_sample_is_deterministic(stereo, tmp_path):
    path, _ = stereo
    again = tmp_path / "again.wav"
    make_sample(again, stereo=True)
    assert again.read_bytes() == path.read_bytes()


def test_amplitude_reaches_espeak():
    require_tool("espeak-ng")
    quiet, _ = speak("hello there", 160, 50, amplitude=40)
    loud, _ = speak("hello there", 160, 50, amplitude=160)
    assert np.abs(loud).max() > 2 * np.abs(quiet).max()


def test_an_unknown_speaker_is_refused(tmp_path):
    from dataclasses import replace

    with pytest.raises(SampleError, match="unknown speaker"):
        make_sample(tmp_path / "x.wav", (replace(LINES[0], speaker="caller"),))

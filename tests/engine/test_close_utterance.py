"""EmotionStream.close_utterance(): a final now, for the utterance in progress (ser-serve's
"flush"), and the stream goes on without shifting its timeline."""

from __future__ import annotations

import soundfile as sf
from synth import SR, speech_and_silence
from tools import require_tool

from streamer.engine.emotion_stream import EmotionStream


def test_close_utterance_gives_the_final_now_and_the_stream_goes_on(linear_model):
    audio, _ = speech_and_silence(
        [("silence", 0.5), ("speech", 1.5), ("silence", 1.0), ("speech", 1.2), ("silence", 1.0)]
    )
    whole = EmotionStream(linear_model, partial_every_s=0)
    expected = whole.feed(audio) + whole.finish()
    assert len(expected) == 2

    stream = EmotionStream(linear_model, partial_every_s=0)
    cut = int(1.6 * SR)  # inside the first utterance, before its hang-over
    early = stream.feed(audio[:cut])
    assert early == []
    closed = stream.close_utterance()
    assert len(closed) == 1 and closed[0].final and not closed[0].split
    assert closed[0].start_s == expected[0].start_s
    assert closed[0].end_s <= expected[0].end_s
    assert stream.close_utterance() == []  # nothing in progress: nothing to close
    rest = stream.feed(audio[cut:]) + stream.finish()
    # the second utterance keeps its place on the timeline (no samples lost to the flush)
    assert [(r.start_s, r.end_s) for r in rest][-1] == (expected[1].start_s, expected[1].end_s)


def test_a_prediction_says_when_it_was_cut_at_the_length_limit(linear_model, tmp_path):
    """The demo call's lines with 0.1 s between them, and a 3 s limit: speech runs past it."""
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    make_sample(tmp_path / "monologue.wav", gap_s=0.1)
    audio, rate = sf.read(tmp_path / "monologue.wav", dtype="float32")
    config = tmp_path / "short.toml"
    config.write_text("[segmenter]\nmax_utterance_s = 3.0\n")
    stream = EmotionStream(linear_model, sample_rate_hz=rate, partial_every_s=0, config=config)
    results = stream.feed(audio) + stream.finish()
    assert any(r.split for r in results) and not all(r.split for r in results)
    for result in results:
        assert result.end_s - result.start_s <= 3.0 + 1e-9


def test_paused_partials_are_skipped_and_the_finals_stay_the_same(linear_model):
    audio, _ = speech_and_silence(
        [("silence", 0.5), ("speech", 3.5), ("silence", 1.0), ("speech", 3.0), ("silence", 1.0)]
    )
    plain = EmotionStream(linear_model, partial_every_s=1.0)
    everything = plain.feed(audio) + plain.finish()
    paused = EmotionStream(linear_model, partial_every_s=1.0)
    paused.pause_partials()
    half = len(audio) // 2
    first = paused.feed(audio[:half])
    paused.pause_partials(False)
    rest = paused.feed(audio[half:]) + paused.finish()
    assert not [r for r in first if not r.final]
    def finals(results: list) -> list:
        return [(r.start_s, r.end_s, r.probabilities) for r in results if r.final]

    assert finals(first + rest) == finals(everything)
    # after the pause, partials come at their own cadence again, not all at once
    later = [r for r in rest if not r.final]
    assert later and len(later) <= len([r for r in everything if not r.final and r.end_s * 16000
                                        > half])

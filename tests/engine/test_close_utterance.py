"""EmotionStream.close_utterance(): a final now, for the utterance in progress (ser-serve's
"flush"), and the stream goes on without shifting its timeline."""

from __future__ import annotations

from synth import SR, speech_and_silence

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


def test_a_prediction_says_when_it_was_cut_at_the_length_limit(linear_model):
    audio, _ = speech_and_silence([("silence", 0.3), ("speech", 19.0), ("silence", 1.0)])
    stream = EmotionStream(linear_model, partial_every_s=0)
    results = stream.feed(audio) + stream.finish()
    assert [r.split for r in results][:2] == [True, True]
    assert not results[-1].split
    assert 7.0 <= results[0].end_s - results[0].start_s <= 8.0 + 1e-9

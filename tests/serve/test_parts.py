"""The server's parts on their own: the outbox merges a slow reader's partials and never drops
a final, a step keeps only the newest partials, the pace check, the start message's defaults,
frames decoded, Prometheus text."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from streamer.results import Prediction
from streamer.serve.audio import decode
from streamer.serve.codes import ProtocolError
from streamer.serve.inference import newest_partials
from streamer.serve.limits import Pace
from streamer.serve.metrics import Metrics
from streamer.serve.outbox import Outbox
from streamer.serve.protocol import StartConfig, parse_start


def test_a_slow_readers_partials_are_merged_and_its_finals_all_kept():
    async def scenario() -> tuple[list[str], int]:
        sent: list[str] = []
        gate = asyncio.Event()

        async def slow_send(text: str) -> None:
            await gate.wait()  # the reader reads nothing until the gate opens
            sent.append(text)

        outbox = Outbox(slow_send)
        outbox.push({"type": "session.started"})
        await asyncio.sleep(0)  # its send is now waiting on the reader
        for k in range(5):
            outbox.push({"type": "partial", "channel": None, "n": k})
        outbox.push({"type": "final", "channel": None, "n": 5})
        for k in range(6, 9):
            outbox.push({"type": "partial", "channel": None, "n": k})
        outbox.push({"type": "final", "channel": None, "n": 9})
        gate.set()
        await outbox.close(5)
        return sent, outbox.partials_merged

    sent, merged = asyncio.run(scenario())
    order = [text.split('"n":')[1].rstrip("}") if '"n"' in text else "start" for text in sent]
    assert order == ["start", "4", "5", "8", "9"]  # each merged partial holds its place
    assert merged == 6


def prediction(end_s: float, final: bool, channel: int | None = None) -> Prediction:
    return Prediction(0.0, end_s, None, ("a", "b"), (0.5, 0.5), 0.0, final, channel)


def test_a_step_keeps_the_newest_partial_of_each_channel_and_every_final():
    results = [prediction(1, False, 1), prediction(1, False, 2), prediction(2, False, 1),
               prediction(2.5, True, 1), prediction(3, False, 2)]
    kept, dropped = newest_partials(results)
    assert kept == [results[3], results[4]] and dropped == 3


def test_the_pace_allows_a_burst_then_real_time_times_the_limit():
    pace = Pace(max_speed=2.0, burst_s=1.0)
    pace.add(1.0, now=100.0)  # the burst
    pace.add(2.0, now=101.0)  # 2 s of audio in 1 s
    with pytest.raises(ProtocolError) as fast:
        pace.add(0.1, now=101.0)
    assert fast.value.close == 4029


def test_a_start_with_only_the_rate_takes_the_documented_defaults():
    config = parse_start({"type": "start", "audio": {"sample_rate": 8000}})
    assert config == StartConfig("pcm_s16le", 8000, 1, "mix", True, 0, {})
    with pytest.raises(ProtocolError, match="unknown start key"):
        parse_start({"type": "start", "audio": {"sample_rate": 8000}, "partial": False})


def test_frames_decode_to_what_the_engine_takes():
    stereo = decode(np.array([1, -2, 3, -4], "<i2").tobytes(), "pcm_s16le", 2)
    assert stereo.dtype == np.int16 and stereo.tolist() == [[1, -2], [3, -4]]
    loud = decode(np.array([2.0, -0.5], "<f4").tobytes(), "pcm_f32le", 1)
    assert loud[:, 0].tolist() == [1.0, -0.5]  # clamped
    with pytest.raises(ProtocolError, match="NaN") as bad:
        decode(np.array([np.nan], "<f4").tobytes(), "pcm_f32le", 1)
    assert not bad.value.fatal


def test_metrics_are_prometheus_text():
    metrics = Metrics()
    metrics.add("ser_audio_seconds_total", 1.5)
    metrics.add('ser_sessions_refused_total{reason="503"}')
    metrics.add('ser_sessions_refused_total{reason="401"}')
    metrics.gauges["ser_sessions_active"] = lambda: 3
    metrics.observe_inference(0.02)
    metrics.observe_inference(9.0)
    text = metrics.text()
    assert text.count("# TYPE ser_sessions_refused_total counter") == 1
    assert "ser_audio_seconds_total 1.5" in text and "ser_sessions_active 3" in text
    assert 'ser_inference_seconds_bucket{le="0.025"} 1' in text
    assert 'ser_inference_seconds_bucket{le="+Inf"} 2' in text
    assert "ser_inference_seconds_count 2" in text


class CountingStream:
    """What a lane asks of an EmotionStream, recording the blocks it is fed."""

    streams: list = []

    def __init__(self) -> None:
        self.blocks: list[int] = []

    def feed(self, block: np.ndarray) -> list:
        self.blocks.append(len(block))
        return []

    def finish(self, classify_pending: bool = True) -> list:
        return []

    def pause_partials(self, paused: bool = True) -> None:
        pass


def test_a_lane_feeds_20_ms_frames_in_steps_of_about_60_ms_and_tiny_frames_by_the_queue():
    from concurrent.futures import ThreadPoolExecutor

    from streamer.serve.inference import Lane, Work

    async def scenario(frames: int, size: int, pace_s: float) -> list[int]:
        stream = CountingStream()
        with ThreadPoolExecutor(1) as pool:
            lane = Lane(stream, pool, Metrics(), lambda step: None, limit=64, min_step_s=0.06)
            for _ in range(frames):
                await lane.put(Work("audio", np.zeros((size, 1), np.int16), size / 16000))
                await asyncio.sleep(pace_s)
            await lane.put(Work("stop"))
            await asyncio.wait_for(lane.task, 10)
        return stream.blocks

    paced = asyncio.run(scenario(frames=30, size=320, pace_s=0.02))
    assert sum(paced) == 30 * 320 and len(paced) <= 12  # not 30 hand-overs
    tiny = asyncio.run(asyncio.wait_for(scenario(frames=2000, size=1, pace_s=0), 10))
    assert sum(tiny) == 2000 and max(tiny) <= 64  # a full queue is a step, no waiting

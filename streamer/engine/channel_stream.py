"""One stream of one channel: segmenter -> model -> predictions, with the live view's state.

A :class:`ChannelStream` takes 16 kHz mono blocks of any size (``feed``), closes the stream
(``finish``) or forgets everything (``reset``); ``snapshot`` gives the live view a consistent
copy of its state without touching the audio path. :class:`~streamer.engine.emotion_stream.
EmotionStream` runs one per channel; the engine's :mod:`~streamer.engine.build` makes them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from streamer.engine.quantiles import QuantileCounter
from streamer.engine.timebase import Timebase
from streamer.results import Prediction, Utterance
from streamer.speech.segmenter import Segmenter

LEVEL_WINDOW_S = 0.03  # the input level shown is the RMS of the newest 30 ms


class Model(Protocol):
    """What a stream asks of its model (a :class:`~streamer.model.classifier.Classifier`)."""

    labels: tuple[str, ...]

    def predict(self, samples: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Snapshot:
    position_s: float
    level_dbfs: float
    in_speech: bool
    speech_s: float  # length of the utterance in progress
    recent: tuple[Prediction, ...]
    utterances: int
    latency_median_ms: float | None = None  # over every utterance of the run
    latency_p95_ms: float | None = None
    non_speech: int = 0  # segments the model's gate judged noise, music or other non-speech
    adapting: bool = False  # the stream normaliser still leans on the training statistics
    partial: Prediction | None = None  # latest provisional result of the utterance in progress
    channel: int | None = None  # 1-based input channel of this stream; None for the downmix


@dataclass
class _Counts:
    """What the stream keeps about its finals (under the stream's lock)."""

    recent: deque[Prediction]
    latencies: QuantileCounter
    utterances: int = 0
    non_speech: int = 0
    adapting: bool = False
    partial: Prediction | None = None


class ChannelStream:
    def __init__(
        self,
        segmenter: Segmenter,
        model: Model,
        timebase: Timebase | None = None,
        channel: int | None = None,
        history: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``timebase``: how rows are stamped (see :mod:`streamer.engine.timebase`);
        ``channel``: the 1-based input channel this stream is (None: the downmix), which its
        predictions carry; ``history``: finals kept for the live view."""
        self.segmenter = segmenter
        self.model = model
        self.timebase = timebase if timebase is not None else Timebase()
        self.channel = channel
        self.sample_rate_hz = segmenter.sample_rate_hz
        self._history = history
        self._clock = clock
        self._lock = threading.Lock()  # the live view reads snapshots from its own thread
        self.reset()

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.model.labels)

    def reset(self) -> None:
        self.segmenter.reset()
        reset_model = getattr(self.model, "reset", None)
        if reset_model is not None:  # the classifier's per-stream normaliser
            reset_model()
        self._samples_in = 0
        # (stream sample index just past a block, monotonic time it arrived) for latency.
        self._arrivals: deque[tuple[int, float]] = deque()
        self._level_dbfs = -math.inf
        adapting = bool(getattr(self.model, "adapting", False))
        with self._lock:
            self._counts = _Counts(deque(maxlen=self._history), QuantileCounter(1.0))
            self._counts.adapting = adapting

    def feed(self, block: np.ndarray) -> list[Prediction]:
        """Add 16 kHz mono samples; the predictions they completed, in stream order."""
        self._samples_in += len(block)
        self._arrivals.append((self._samples_in, self._clock()))
        if len(block):  # the level of the newest 30 ms, whatever the block size
            tail = block[-round(LEVEL_WINDOW_S * self.sample_rate_hz) :]
            rms = float(np.sqrt(np.mean(np.square(tail, dtype=np.float64))))
            self._level_dbfs = 20 * math.log10(rms) if rms > 1e-7 else -140.0
        predictions = self._classify_all(self.segmenter.feed(block))
        if not self.segmenter.in_speech:
            with self._lock:
                self._counts.partial = None  # the utterance ended (its final is out, or dropped)
        # Every future utterance ends after the start of the one in progress, which is at most
        # max_utterance + pre-roll + onset back: older arrival times are never asked for, and
        # dropping them keeps memory flat through hours of silence.
        seg = self.segmenter
        reach = seg.max_frames + seg.pre_roll_frames + seg.onset_frames + 1
        self._forget_arrivals_before(
            round(seg.position_s * self.sample_rate_hz) - reach * seg.frame_len
        )
        return predictions

    def finish(self, classify_pending: bool = True) -> list[Prediction]:
        pending = self.segmenter.flush()
        with self._lock:
            self._counts.partial = None
        return self._classify_all(pending) if classify_pending else []

    def close_utterance(self) -> list[Prediction]:
        """The utterance in progress classified now; the stream goes on."""
        pending = self.segmenter.close_utterance()
        with self._lock:
            self._counts.partial = None
        return self._classify_all(pending)

    def _forget_arrivals_before(self, sample_index: int) -> None:
        """Drop arrival records of blocks that ended before ``sample_index`` (keeps the last)."""
        while len(self._arrivals) > 1 and self._arrivals[0][0] < sample_index:
            self._arrivals.popleft()

    def _arrival_of(self, sample_index: int) -> float:
        """When ``sample_index`` entered the stream: the arrival of the block that brought it,
        less the audio after it in that block (a live source hands a block over once its last
        sample is captured; a block may hold several device periods when they come in a burst)."""
        self._forget_arrivals_before(sample_index)
        if not self._arrivals:
            return self._clock()
        block_end, arrived = self._arrivals[0]
        return arrived - max(0, block_end - sample_index) / self.sample_rate_hz

    def _classify_all(self, utterances: list[Utterance]) -> list[Prediction]:
        out = [self._classify(u) for u in utterances]
        return [p for p in out if p is not None]

    def _probabilities(self, utterance: Utterance) -> np.ndarray | None:
        """The model's probabilities, or None when its gate says the segment is not speech.

        A provisional utterance is classified without touching the stream's state: it counts
        nowhere, and the normaliser learns from the utterance only when it is heard whole, so
        finals are the same with partial results on or off."""
        assess = getattr(self.model, "assess", None)
        if assess is None:
            return self.model.predict(utterance.samples)
        assessment = assess(utterance.samples, utterance.final)
        if utterance.final:
            with self._lock:
                self._counts.adapting = assessment.adapting
                self._counts.non_speech += not assessment.speech
        return assessment.probabilities if assessment.speech else None

    def _classify(self, utterance: Utterance) -> Prediction | None:
        speech_ended = self._arrival_of(round(utterance.end_s * self.sample_rate_hz))
        probs = self._probabilities(utterance)
        if probs is None:
            return None
        latency_ms, wall_time = self.timebase.stamp(utterance, speech_ended, self._clock())
        prediction = Prediction(
            start_s=utterance.start_s,
            end_s=utterance.end_s,
            wall_time=wall_time,
            labels=self.labels,
            probabilities=tuple(float(p) for p in probs),
            latency_ms=latency_ms,
            final=utterance.final,
            channel=self.channel,
            split=utterance.split,
        )
        with self._lock:
            counts = self._counts
            if not utterance.final:
                counts.partial = prediction
                return prediction
            counts.partial = None
            counts.recent.append(prediction)
            counts.latencies.add(latency_ms)
            counts.utterances += 1
        return prediction

    @property
    def latencies(self) -> QuantileCounter:
        """A copy of the latency counts of this stream's finals."""
        copy = QuantileCounter(resolution=1.0)
        with self._lock:
            copy.merge(self._counts.latencies)
        return copy

    def snapshot(self) -> Snapshot:
        seg = self.segmenter
        with self._lock:
            counts = self._counts
            median, p95 = counts.latencies.median_p95()
            recent = tuple(counts.recent)
            return Snapshot(
                position_s=self._samples_in / self.sample_rate_hz,
                level_dbfs=self._level_dbfs,
                in_speech=seg.in_speech,
                speech_s=seg.pending_s,
                recent=recent,
                utterances=counts.utterances,
                latency_median_ms=median,
                latency_p95_ms=p95,
                non_speech=counts.non_speech,
                adapting=counts.adapting,
                partial=counts.partial,
                channel=self.channel,
            )

"""The pipeline every source feeds: segmenter -> features -> classifier -> predictions.

It is driven by whoever owns the source (see :mod:`streamer.runner`): ``process`` takes blocks
of any size, ``finish`` closes the stream, ``reset`` forgets everything. ``snapshot`` gives the
live view a consistent copy of the state without touching the audio path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

import numpy as np

from streamer.results import Prediction, Utterance
from streamer.segmenter import Segmenter
from streamer.stats import QuantileCounter

LEVEL_WINDOW_S = 0.03  # the input level shown is the RMS of the newest 30 ms


class Model(Protocol):
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


def _now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


class Pipeline:
    def __init__(
        self,
        segmenter: Segmenter,
        model: Model,
        history: int = 200,
        clock: Callable[[], float] = time.monotonic,
        replay_start: datetime | None = None,
        wall_start: datetime | None = None,
        channel: int | None = None,
    ) -> None:
        """``replay_start``: replaying a recording as fast as possible, which started then. Rows
        then carry stream time instead of the machine's clock (see ``_timing``), so replaying the
        same file gives the same rows on every run and in every process. ``wall_start``: a
        recording replayed at its own pace that started then (``--start-time``): rows carry that
        plus stream time as ``wall_time``, and the latency measured on the machine's clock.
        ``channel``: the 1-based input channel this stream is (None: the downmix); its
        predictions carry it."""
        self.segmenter = segmenter
        self.channel = channel
        self.model = model
        self.sample_rate_hz = segmenter.sample_rate_hz
        self._clock = clock
        self.replay_start = replay_start
        self.wall_start = wall_start
        self._history = history
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
        self._recent: deque[Prediction] = deque(maxlen=self._history)
        self._latencies = QuantileCounter(resolution=1.0)  # exact to 1 ms for any run length
        self._level_dbfs = -math.inf
        self._utterances = 0
        self._non_speech = 0
        self._adapting = bool(getattr(self.model, "adapting", False))
        self._partial: Prediction | None = None

    def process(self, block: np.ndarray) -> list[Prediction]:
        arrived = self._clock()
        self._samples_in += len(block)
        self._arrivals.append((self._samples_in, arrived))
        if len(block):  # the level of the newest 30 ms, whatever the block size
            tail = block[-round(LEVEL_WINDOW_S * self.sample_rate_hz) :]
            rms = float(np.sqrt(np.mean(np.square(tail, dtype=np.float64))))
            self._level_dbfs = 20 * math.log10(rms) if rms > 1e-7 else -140.0
        predictions = self._classify_all(self.segmenter.feed(block))
        if not self.segmenter.in_speech and self._partial is not None:
            with self._lock:
                self._partial = None  # the utterance ended (its final is out, or it was dropped)
        # Every future utterance ends after the start of the one in progress, which is at most
        # max_utterance + pre-roll + onset back: older arrival times are never asked for, and
        # dropping them keeps memory flat through hours of silence.
        seg = self.segmenter
        reach = seg.max_frames + seg.pre_roll_frames + seg.onset_frames + 1
        self._forget_arrivals_before(
            round(seg.position_s * self.sample_rate_hz) - reach * seg.frame_len
        )
        return predictions

    def _forget_arrivals_before(self, sample_index: int) -> None:
        """Drop arrival records of blocks that ended before ``sample_index`` (keeps the last)."""
        while len(self._arrivals) > 1 and self._arrivals[0][0] < sample_index:
            self._arrivals.popleft()

    def finish(self, classify_pending: bool = True) -> list[Prediction]:
        pending = self.segmenter.flush()
        with self._lock:
            self._partial = None
        return self._classify_all(pending) if classify_pending else []

    def _classify_all(self, utterances: list[Utterance]) -> list[Prediction]:
        out = [self._classify(u) for u in utterances]
        return [p for p in out if p is not None]

    def _arrival_of(self, sample_index: int) -> float:
        """When ``sample_index`` entered the stream: the arrival of the block that brought it,
        less the audio after it in that block (a live source hands a block over once its last
        sample is captured; a block may hold several device periods when they come in a burst)."""
        self._forget_arrivals_before(sample_index)
        if not self._arrivals:
            return self._clock()
        block_end, arrived = self._arrivals[0]
        return arrived - max(0, block_end - sample_index) / self.sample_rate_hz

    def _classify(self, utterance: Utterance) -> Prediction | None:
        """A prediction, or None when the model's gate says the segment is not speech.

        A provisional utterance (``final`` false) is classified without touching the stream's
        state: it counts nowhere, and the normaliser learns from the utterance only when it is
        heard whole, so finals are the same with partial results on or off."""
        final = utterance.final
        speech_ended = self._arrival_of(round(utterance.end_s * self.sample_rate_hz))
        assess = getattr(self.model, "assess", None)
        if assess is not None:
            assessment = assess(utterance.samples) if final else assess(utterance.samples, False)
            if not assessment.speech:
                if final:
                    with self._lock:
                        self._adapting = assessment.adapting
                        self._non_speech += 1
                return None
            if final:
                with self._lock:
                    self._adapting = assessment.adapting
            probs = assessment.probabilities
        else:
            probs = self.model.predict(utterance.samples)
        latency_ms, wall_time = self._timing(utterance, speech_ended)
        prediction = Prediction(
            start_s=utterance.start_s,
            end_s=utterance.end_s,
            wall_time=wall_time,
            labels=self.labels,
            probabilities=tuple(float(p) for p in probs),
            latency_ms=latency_ms,
            final=final,
            channel=self.channel,
        )
        with self._lock:
            if not final:
                self._partial = prediction
                return prediction
            self._partial = None
            self._recent.append(prediction)
            self._latencies.add(latency_ms)
            self._utterances += 1
        return prediction

    def _timing(self, utterance: Utterance, speech_ended: float) -> tuple[float, str]:
        """(latency_ms, wall_time) of a row. Live: end of speech -> now on the machine's clock.
        Replay: stream time from the end of speech to the frame that closed the utterance (the
        hang-over; 0 for a split or the end of the file), and the recording's start plus that."""
        closed_s = utterance.end_s if utterance.closed_s is None else utterance.closed_s
        if self.replay_start is None:
            latency_ms = max(0.0, (self._clock() - speech_ended) * 1000.0)
            if self.wall_start is None:
                return latency_ms, _now_iso()
            stamp = self.wall_start + timedelta(seconds=closed_s)
            return latency_ms, stamp.isoformat(timespec="milliseconds")
        stamp = self.replay_start + timedelta(seconds=closed_s)
        latency_ms = max(0.0, (closed_s - utterance.end_s) * 1000.0)
        return latency_ms, stamp.isoformat(timespec="milliseconds")

    @property
    def latencies(self) -> QuantileCounter:
        """A copy of the latency counts of this stream's finals."""
        copy = QuantileCounter(resolution=1.0)
        with self._lock:
            copy.merge(self._latencies)
        return copy

    def snapshot(self) -> Snapshot:
        seg = self.segmenter
        with self._lock:
            recent, count = tuple(self._recent), self._utterances
            median, p95 = self._latencies.median_p95()
            non_speech, adapting = self._non_speech, self._adapting
            partial = self._partial
        return Snapshot(
            position_s=self._samples_in / self.sample_rate_hz,
            level_dbfs=self._level_dbfs,
            in_speech=seg.in_speech,
            speech_s=seg.pending_s,
            recent=recent,
            utterances=count,
            latency_median_ms=median,
            latency_p95_ms=p95,
            non_speech=non_speech,
            adapting=adapting,
            partial=partial,
            channel=self.channel,
        )

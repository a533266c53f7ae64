"""The Python API: speech emotion for audio you feed in, in blocks of any size.

    from streamer import EmotionStream

    stream = EmotionStream(sample_rate_hz=48_000)        # the shipped model and settings
    for block in blocks:                                 # (n,) or (n, channels)
        for result in stream.feed(block):
            print(result.final, result.label, result.confidence)
    for result in stream.finish():                       # the utterance still in progress
        ...

Each result is a :class:`~streamer.results.Prediction`: ``final`` ones are the utterances
ser-live logs (one per utterance), the others provisional results over an utterance still being
spoken (every ``partial_every_s``). ``reset()`` starts a new stream (a new call). ser-live,
ser-batch, the benches and training's end-to-end checks run every recording through this class,
so what the API gives is what the commands log.

Blocks: float32/float64 in [-1, 1], or int16/int32 PCM (scaled by 2^15 / 2^31); any other dtype
is refused with a TypeError naming it. Channels: ``channels="mix"`` analyses the downmix of
multi-channel blocks, ``channels=N`` only channel N (1-based), ``channels="each"`` every channel
as its own stream (its own segmenter, normaliser and history); results then carry their
``channel``. One stream is fed from one thread at a time (a second thread is refused, not
interleaved); after ``finish()`` it takes no more audio until ``reset()``.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime
from pathlib import Path

import numpy as np

from streamer.emotions import uncertain_threshold
from streamer.engine.build import load_model, make_segmenter, partial_cadence
from streamer.engine.channel_stream import ChannelStream, Snapshot
from streamer.engine.channels import ChannelShaper
from streamer.engine.quantiles import QuantileCounter
from streamer.engine.timebase import Timebase
from streamer.errors import ConfigError, StreamUsageError
from streamer.model.classifier import Classifier
from streamer.results import Prediction
from streamer.settings import Settings, load_settings
from streamer.sources.channel_choice import ChannelMode, check_channel_mode

MIN_RATE_HZ, MAX_RATE_HZ = 8_000, 384_000
INT_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31}


def check_rate(rate: object) -> int:
    """A sample rate the resampler can take: a whole number of Hz in 8,000..384,000."""
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise ConfigError(f"sample_rate_hz must be a whole number of Hz (got {rate!r})")
    if not MIN_RATE_HZ <= int(rate) <= MAX_RATE_HZ:
        raise ConfigError(f"sample_rate_hz must be {MIN_RATE_HZ}..{MAX_RATE_HZ} (got {rate})")
    return int(rate)


def as_float_block(block: object) -> np.ndarray:
    """float32 samples in [-1, 1] from a float or int16/int32 PCM block (1-D or 2-D)."""
    array = np.asarray(block)
    if array.dtype.kind == "f":
        out = array.astype(np.float32, copy=False)
    elif array.dtype in INT_SCALE:
        out = (array / INT_SCALE[array.dtype]).astype(np.float32)
    else:
        raise TypeError(
            f"audio blocks must be float32/float64 or int16/int32 PCM, not {array.dtype}"
        )
    if out.ndim not in (1, 2):
        raise StreamUsageError(f"blocks are (n,) or (n, channels) arrays; got shape {out.shape}")
    return out


class EmotionStream:
    """Blocks of audio in, emotion predictions out; one object per stream (call, session).

    ``model``: an ONNX model file or a loaded :class:`~streamer.model.classifier.Classifier`
    (default: the settings' ``model.path``, i.e. the shipped model). ``sample_rate_hz``: the
    rate of the blocks you feed (resampled once, streaming, to the model's rate).
    ``start_time``: when the audio began; rows then carry start + stream time as ``wall_time``
    (deterministic), otherwise the machine's clock when each result was made; ``latency_ms`` is
    then stream time too (from the end of speech to the frame that closed the utterance),
    unless ``paced``: the audio comes at its own pace (a recording played in real time) and
    latency is measured on the machine's clock. ``partial_every_s``: provisional results this
    often during speech (default ``segmenter.partial_every_s``; 0 = off). ``input_channels``:
    how many channels the blocks will have, when known (the streams of ``"each"`` then exist
    before the first block, e.g. for a live view). ``settings``/``config``: ser-live's settings
    (default: the shipped ``config.toml``).
    """

    def __init__(
        self,
        model: str | Path | Classifier | None = None,
        *,
        sample_rate_hz: int | None = None,
        channels: ChannelMode = "mix",
        partial_every_s: float | None = None,
        start_time: datetime | None = None,
        paced: bool = False,
        settings: Settings | None = None,
        config: str | Path | None = None,
        input_channels: int | None = None,
        timebase: Timebase | None = None,
    ) -> None:
        self.settings = settings if settings is not None else load_settings(config)
        self.channels = check_channel_mode(channels)
        self.partial_every_s = partial_cadence(self.settings, partial_every_s)
        self.classifier = load_model(self.settings, model)
        self.model_rate_hz = self.settings.audio.sample_rate_hz
        rate = self.model_rate_hz if sample_rate_hz is None else sample_rate_hz
        self.sample_rate_hz = check_rate(rate)
        self.timebase = timebase if timebase is not None else Timebase.of(start_time, paced)
        self.input_channels = input_channels
        self._lock = threading.Lock()  # the live view lists the streams from its own thread
        self._feeding = threading.Lock()  # one feeder at a time
        self._uncertain_below: float | None = None  # None: the model's or the settings'
        self.reset()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    @property
    def uncertain_below(self) -> float:
        """The confidence under which a label is shown as uncertain: the model's own (chosen on
        held-out corpora) unless the settings say otherwise. Settable."""
        ui = self.settings.ui
        chosen = self.classifier.info.uncertain_below
        return uncertain_threshold(
            ui.uncertain_below, ui.uncertain_from_model, chosen, self._uncertain_below
        )

    @uncertain_below.setter
    def uncertain_below(self, value: float) -> None:
        if isinstance(value, bool) or not (isinstance(value, (int, float)) and 0 <= value <= 1):
            raise ConfigError(f"uncertain_below must be 0..1 (got {value!r})")
        self._uncertain_below = float(value)

    @property
    def streams(self) -> list[ChannelStream]:
        """One per stream: a single one, or one per channel (``"each"``)."""
        with self._lock:
            return list(self._streams)

    def reset(self) -> None:
        """A new stream: segmenters, normalisers, resampling and history start again."""
        with self._lock:
            self._streams: list[ChannelStream] = []
            self._shaper: ChannelShaper | None = None  # set by the first block
            self._finished = False
        if self.channels != "each":
            self._start_streams([self.channels if isinstance(self.channels, int) else None])
        elif self.input_channels:
            self._start_streams(list(range(1, self.input_channels + 1)))

    def _start_streams(self, channel_numbers: list[int | None]) -> None:
        streams = []
        for k, number in enumerate(channel_numbers):
            classifier = self.classifier if k == 0 else self.classifier.for_new_stream()
            settings = self.settings
            segmenter = make_segmenter(
                settings.vad, settings.segmenter, self.model_rate_hz, self.partial_every_s
            )
            streams.append(ChannelStream(segmenter, classifier, self.timebase, number))
        with self._lock:
            self._streams = streams

    def _shape(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """``block`` as (frames, streams) float32 at the model's rate."""
        width = 1 if block.ndim == 1 else block.shape[1]
        if self._shaper is None:
            if isinstance(self.channels, int) and width > 1 and self.channels > width:
                raise StreamUsageError(
                    f"channel {self.channels} asked for, but blocks have {width}"
                )
            self._shaper = ChannelShaper(
                self.channels, width, self.sample_rate_hz, self.model_rate_hz
            )
            if self.channels == "each" and len(self._streams) != width:
                self._start_streams(list(range(1, width + 1)))
        elif width != self._shaper.in_channels:
            raise StreamUsageError(
                f"blocks changed from {self._shaper.in_channels} to {width} channels mid-stream"
            )
        return self._shaper.process(block, last=last)

    def feed(self, block: np.ndarray) -> list[Prediction]:
        """Add audio; the results it completed (finals and provisional), in stream order.
        A 1-D block is one channel (the channel asked for, if a number was)."""
        samples = as_float_block(block)
        with self._one_feeder("feed"):
            columns = self._shape(samples)
            return _in_order([s.feed(columns[:, k]) for k, s in enumerate(self._streams)])

    def finish(self, classify_pending: bool = True) -> list[Prediction]:
        """End of the stream: the utterances in progress are classified (unless told not to).
        The stream then takes no more audio until :meth:`reset`."""
        with self._one_feeder("finish"):
            self._finished = True
            tails: list[list[Prediction]] = []
            if self._shaper is not None and self.sample_rate_hz != self.model_rate_hz:
                rest = self._shape(np.zeros((0, self._shaper.in_channels), np.float32), last=True)
                tails = [s.feed(rest[:, k]) for k, s in enumerate(self._streams)]
            finals = [s.finish(classify_pending) for s in self._streams]
            return _in_order(tails) + _in_order(finals)

    def close_utterance(self) -> list[Prediction]:
        """Classify the utterances in progress now, without waiting for their hang-over, and
        go on taking audio (a client asked for a result now). Audio still inside the resampler
        (a few ms when the rate is not the model's) belongs to what comes next."""
        with self._one_feeder("close_utterance"):
            return _in_order([s.close_utterance() for s in self._streams])

    def pause_partials(self, paused: bool = True) -> None:
        """Skip the provisional results that fall due while paused (a consumer that is behind,
        such as a loaded server), or make them again; finals are the same either way. Call it
        from the feeding thread, between blocks."""
        for stream in self.streams:
            stream.segmenter.partials_paused = paused

    def _one_feeder(self, what: str) -> _Feeding:
        if self._finished:
            raise StreamUsageError(
                f"EmotionStream.{what}() after finish(); call reset() to start a new stream"
            )
        return _Feeding(self._feeding, what)

    def snapshots(self) -> list[Snapshot]:
        """The live view's state of each stream (one per channel with ``"each"``)."""
        return [s.snapshot() for s in self.streams]

    def snapshot(self) -> Snapshot:
        """The whole run at a glance: counts summed over the streams, latency over all rows."""
        streams = self.streams
        snaps = [s.snapshot() for s in streams]
        if len(snaps) == 1:
            return snaps[0]
        if not snaps:
            return Snapshot(0.0, -math.inf, False, 0.0, (), 0)
        latencies = QuantileCounter(resolution=1.0)
        for stream in streams:
            latencies.merge(stream.latencies)
        median, p95 = latencies.median_p95()
        return _merged(snaps, median, p95)


class _Feeding:
    """Holds a stream's feeding lock for one call, refusing a second thread at once."""

    def __init__(self, lock: threading.Lock, what: str) -> None:
        self._lock, self._what = lock, what

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise StreamUsageError(
                f"EmotionStream.{self._what}() while another thread is feeding the same stream; "
                "use one stream per thread (or serialise the calls)"
            )

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def _in_order(per_stream: list[list[Prediction]]) -> list[Prediction]:
    if len(per_stream) == 1:
        return per_stream[0]
    merged = [p for predictions in per_stream for p in predictions]
    return sorted(merged, key=lambda p: (p.end_s, p.channel or 0))


def _merged(snaps: list[Snapshot], median: float | None, p95: float | None) -> Snapshot:
    recent = tuple(sorted((p for s in snaps for p in s.recent), key=lambda p: p.end_s))
    speaking = [s for s in snaps if s.in_speech]
    return Snapshot(
        position_s=max(s.position_s for s in snaps),
        level_dbfs=max(s.level_dbfs for s in snaps),
        in_speech=bool(speaking),
        speech_s=max((s.speech_s for s in speaking), default=0.0),
        recent=recent,
        utterances=sum(s.utterances for s in snaps),
        latency_median_ms=median,
        latency_p95_ms=p95,
        non_speech=sum(s.non_speech for s in snaps),
        adapting=any(s.adapting for s in snaps),
        partial=max(
            (s.partial for s in snaps if s.partial is not None),
            key=lambda p: p.end_s,
            default=None,
        ),
    )

"""The Python API: speech emotion for audio you feed in, in blocks of any size.

    from streamer import EmotionStream

    stream = EmotionStream(sample_rate_hz=48_000)        # the shipped model and settings
    for block in blocks:                                 # float32, (n,) or (n, channels)
        for result in stream.feed(block):
            print(result.final, result.label, result.confidence)
    for result in stream.finish():                       # the utterance still in progress
        ...

Each result is a :class:`~streamer.results.Prediction`: ``final`` ones are the utterances
ser-live logs (one per utterance), the others provisional results over an utterance still being
spoken (every ``partial_every_s``). ``reset()`` starts a new stream (a new call). ser-live and
ser-batch run every recording and microphone session through this class, so what the API gives
is what the commands log.

Channels: ``channels="mix"`` analyses the downmix of multi-channel blocks, ``channels=N`` only
channel N (1-based), ``channels="each"`` every channel as its own stream (its own segmenter,
normaliser and history); results then carry their ``channel``.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime
from pathlib import Path

import numpy as np

from streamer.classifier import Classifier
from streamer.pipeline import Pipeline, Snapshot
from streamer.results import Prediction
from streamer.segmenter import Segmenter
from streamer.settings import Settings, SettingsError, load_settings
from streamer.sources.resample import ChannelMode, ChannelResampler
from streamer.stats import QuantileCounter
from streamer.vad import vad_from_settings


def check_channels(channels: ChannelMode) -> ChannelMode:
    if channels in ("mix", "each"):
        return channels
    if isinstance(channels, int) and not isinstance(channels, bool) and channels >= 1:
        return channels
    raise SettingsError(
        f'channels must be "mix", "each" or a channel number from 1 (got {channels!r})'
    )


class EmotionStream:
    """Blocks of audio in, emotion predictions out; one object per stream (call, session).

    ``model``: an ONNX model file or a loaded :class:`~streamer.classifier.Classifier`
    (default: the settings' ``model.path``, i.e. the shipped model). ``sample_rate_hz``: the
    rate of the blocks you feed (resampled once, streaming, to the model's rate). ``start_time``:
    when the audio began; rows then carry start + stream time as ``wall_time`` (deterministic),
    otherwise the machine's clock when each result was made; ``latency_ms`` is then stream time
    too (from the end of speech to the frame that closed the utterance), unless ``paced``: the
    audio comes at its own pace (a recording played in real time) and latency is measured on the
    machine's clock. ``partial_every_s``: provisional
    results this often during speech (default ``segmenter.partial_every_s``; 0 = off).
    ``settings``/``config``: ser-live's settings (default: the shipped ``config.toml``).
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
    ) -> None:
        self.settings = settings if settings is not None else load_settings(config)
        rate = self.settings.audio.sample_rate_hz
        if isinstance(model, Classifier):
            self.classifier = model
        else:
            self.classifier = Classifier(model if model is not None else self.settings.model.path)
        if self.classifier.info.sample_rate != rate:
            raise SettingsError(
                f"audio.sample_rate_hz is {rate} but the model expects "
                f"{self.classifier.info.sample_rate} Hz audio"
            )
        self.model_rate_hz = rate
        self.sample_rate_hz = int(sample_rate_hz) if sample_rate_hz is not None else rate
        if self.sample_rate_hz <= 0:
            raise SettingsError(f"sample_rate_hz must be positive (got {sample_rate_hz})")
        self.channels = check_channels(channels)
        every = partial_every_s
        if every is None:
            every = self.settings.segmenter.partial_every_s
        if not (math.isfinite(every) and every >= 0):
            raise SettingsError(f"partial_every_s must be 0 (off) or positive (got {every})")
        self.partial_every_s = float(every)
        self.start_time = start_time
        self.paced = paced
        self._lock = threading.Lock()  # the live view lists the streams from its own thread
        self.reset()

    @property
    def labels(self) -> tuple[str, ...]:
        return self.classifier.labels

    @property
    def pipelines(self) -> list[Pipeline]:
        """One per stream: a single one, or one per channel once blocks came (``"each"``)."""
        with self._lock:
            return list(self._pipelines)

    def reset(self) -> None:
        """A new stream: segmenters, normalisers, resampling and history start again."""
        with self._lock:
            self._pipelines: list[Pipeline] = []
            self._width: int | None = None  # channels of the blocks fed so far
            self._shaper: ChannelResampler | None = None  # set by the first block
        if self.channels != "each":
            self._start_streams([self.channels if isinstance(self.channels, int) else None])

    def _start_streams(self, channel_numbers: list[int | None]) -> None:
        pipelines = []
        for k, number in enumerate(channel_numbers):
            classifier = self.classifier if k == 0 else self.classifier.for_new_stream()
            classifier.reset()
            vad = vad_from_settings(self.model_rate_hz, self.settings.vad)
            segmenter = Segmenter(vad, self.settings.segmenter, self.partial_every_s)
            replay_start, wall_start = self.start_time, None
            if self.paced:  # the machine's clock measures latency; rows carry the start
                replay_start, wall_start = None, self.start_time
            pipelines.append(
                Pipeline(
                    segmenter,
                    classifier,
                    replay_start=replay_start,
                    wall_start=wall_start,
                    channel=number,
                )
            )
        with self._lock:
            self._pipelines = pipelines

    def _columns(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        """``block`` as (frames, streams) float32 at the model's rate: the channel choice and
        the resampling are the sources' own (:class:`ChannelResampler`)."""
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[:, None]
        if block.ndim != 2:
            raise ValueError(f"blocks are (n,) or (n, channels) arrays; got shape {block.shape}")
        width = block.shape[1]
        if self._shaper is None:
            if isinstance(self.channels, int) and width > 1 and self.channels > width:
                raise ValueError(f"channel {self.channels} asked for, but blocks have {width}")
            # One column is already the channel asked for (a source that chose it).
            mode = self.channels if width > 1 or self.channels == "each" else "mix"
            self._shaper = ChannelResampler(mode, width, self.sample_rate_hz, self.model_rate_hz)
            self._width = width
            if self.channels == "each":
                self._start_streams(list(range(1, width + 1)))
        elif width != self._width:
            raise ValueError(f"blocks changed from {self._width} to {width} channels mid-stream")
        return self._shaper.process(block, last=last).reshape(-1, len(self._pipelines))

    def feed(self, block: np.ndarray) -> list[Prediction]:
        """Add audio; the results it completed (finals and provisional), in stream order.
        A 1-D block is one channel (the channel asked for, if a number was)."""
        if (  # what a source hands on (one channel at the model's rate): straight through
            self._width == 1
            and self.sample_rate_hz == self.model_rate_hz
            and getattr(block, "ndim", 0) == 1
        ):
            return self._pipelines[0].process(block)
        columns = self._columns(block)
        return self._collect([p.process(columns[:, k]) for k, p in enumerate(self._pipelines)])

    process = feed  # the name the runner drives sources' blocks through

    def finish(self, classify_pending: bool = True) -> list[Prediction]:
        """End of the stream: the utterances in progress are classified (unless told not to)."""
        tails: list[list[Prediction]] = []
        if self._shaper is not None and self.sample_rate_hz != self.model_rate_hz:
            rest = self._columns(np.zeros((0, self._width or 1), np.float32), last=True)
            tails = [p.process(rest[:, k]) for k, p in enumerate(self._pipelines)]
        finals = [p.finish(classify_pending) for p in self._pipelines]
        return self._collect(tails) + self._collect(finals)

    @staticmethod
    def _collect(per_stream: list[list[Prediction]]) -> list[Prediction]:
        if len(per_stream) == 1:
            return per_stream[0]
        merged = [p for predictions in per_stream for p in predictions]
        return sorted(merged, key=lambda p: (p.end_s, p.channel or 0))

    def snapshots(self) -> list[Snapshot]:
        """The live view's state of each stream (one per channel with ``"each"``)."""
        return [p.snapshot() for p in self.pipelines]

    def snapshot(self) -> Snapshot:
        """The whole run at a glance: counts summed over the streams, latency over all rows."""
        pipelines = self.pipelines
        snaps = [p.snapshot() for p in pipelines]
        if len(snaps) == 1:
            return snaps[0]
        if not snaps:
            return Snapshot(0.0, -math.inf, False, 0.0, (), 0)
        latencies = QuantileCounter(resolution=1.0)
        for pipeline in pipelines:
            latencies.merge(pipeline.latencies)
        median, p95 = latencies.median_p95()
        recent = tuple(sorted((p for s in snaps for p in s.recent), key=lambda p: p.end_s))
        loudest = max(snaps, key=lambda s: s.level_dbfs)
        speaking = [s for s in snaps if s.in_speech]
        return Snapshot(
            position_s=max(s.position_s for s in snaps),
            level_dbfs=loudest.level_dbfs,
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

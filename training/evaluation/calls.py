"""Labelled clips replayed as calls through the streaming engine and scored clip by clip.

This is how every choice is judged: a corpus the model never heard is joined into calls (clips
in a seeded random order, 0.8-1.6 s pauses with a faint noise floor, brought to one peak level)
and replayed through :class:`~streamer.engine.emotion_stream.EmotionStream` exactly as
``ser-live --input call.wav`` replays it — segmentation with its gain staging, the stream
normaliser's cold start, the speech gate, provisional results. Each clip is then scored by the
final row that covers most of it (at least half; none: counted wrong, as "no row"), so what
users would see is what is measured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from streamer.results import Prediction
from streamer.settings import Settings

RATE = 16000
CHUNK = RATE  # one-second blocks: the segmenter's results do not depend on the block size
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # calls run on stream time from here


@dataclass(frozen=True)
class CallPlan:
    """How clips become calls."""

    gap_s: tuple[float, float] = (0.8, 1.6)  # pause between clips, drawn uniformly
    floor_dbfs: float = -70.0  # white noise in the pauses (RMS)
    peak_dbfs: float = -8.0  # the call's peak sample
    clips_per_call: int | None = None  # None: one long call of every clip
    gain_db: float = 0.0  # the whole call played this much louder (robustness checks)
    channel: str = "clean"  # "clean", "telephone" or "babble" (10 dB SNR)


@dataclass(frozen=True)
class Call:
    samples: np.ndarray  # 16 kHz mono float32
    spans: list[tuple[float, float]]  # (start_s, end_s) of each clip in the call
    clips: list[int]  # indices of the clips, in call order


def make_calls(audio: Sequence[np.ndarray], plan: CallPlan, seed: int) -> list[Call]:
    """The clips (16 kHz mono) in a seeded random order, joined into calls by ``plan``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(audio))
    size = plan.clips_per_call or len(audio)
    return [_join(audio, list(order[i : i + size]), plan, rng) for i in range(0, len(audio), size)]


def _join(audio: Sequence[np.ndarray], clips: list[int], plan: CallPlan, rng) -> Call:  # noqa: ANN001
    parts, spans, t = [], [], 0
    floor = 10 ** (plan.floor_dbfs / 20)
    for index in clips:
        gap = int(RATE * rng.uniform(*plan.gap_s))
        clip = np.asarray(audio[index], dtype=np.float32)
        parts += [clip, (floor * rng.standard_normal(gap)).astype(np.float32)]
        spans.append((t / RATE, (t + len(clip)) / RATE))
        t += len(clip) + gap
    call = np.concatenate(parts)
    call *= np.float32(10 ** (plan.peak_dbfs / 20) / max(float(np.max(np.abs(call))), 1e-9))
    return Call(call.astype(np.float32), spans, [int(i) for i in clips])


def degrade(call: Call, plan: CallPlan, babble: np.ndarray | None, seed: int) -> np.ndarray:
    """The call through ``plan``'s channel and gain (never clipped silently: clipped at +-1 as
    a real input would be)."""
    from training.data import augment

    x = call.samples
    if plan.channel == "telephone":
        x = augment.telephone(x)
    elif plan.channel == "babble":
        if babble is None:
            babble = augment.pink_noise(len(x), np.random.default_rng(seed))
        x = augment.add_noise(x, np.resize(babble, len(x)), snr_db=10.0)
    elif plan.channel != "clean":
        raise ValueError(f"unknown channel {plan.channel!r}")
    x = x * np.float32(10 ** (plan.gain_db / 20))
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def replay(
    model: object, samples: np.ndarray, settings: Settings, partial_every_s: float = 0.0
) -> list[Prediction]:
    """Every result ``ser-live --input`` would give for ``samples`` (16 kHz mono), replayed
    fast on stream time through a fresh EmotionStream (``model``: a path or a Classifier)."""
    from streamer.engine.emotion_stream import EmotionStream

    stream = EmotionStream(
        model, settings=settings, partial_every_s=partial_every_s, start_time=EPOCH
    )
    rows: list[Prediction] = []
    for i in range(0, len(samples), CHUNK):
        rows += stream.feed(samples[i : i + CHUNK])
    return rows + stream.finish()


def covering(rows: Sequence[Prediction], span: tuple[float, float]) -> Prediction | None:
    """The row that overlaps ``span`` (a clip) most, if that overlap is at least half of the
    clip or at least half of the row: a clip recorded with a second of silence around its
    words is still covered by the row of its words, and a row that holds several clips
    covers each of them (it ran them together: counted in ``CallRows.shared_rows``)."""
    best, cover = None, 0.0
    for row in rows:
        inter = max(0.0, min(span[1], row.end_s) - max(span[0], row.start_s))
        if inter > cover:
            best, cover = row, inter
    if best is None:
        return None
    shorter = min(span[1] - span[0], best.end_s - best.start_s)
    return best if cover >= 0.5 * shorter else None


@dataclass
class CallRows:
    """What the calls gave each clip: its covering final row's probabilities (NaN: no row),
    the provisional results inside it, and the call's row counts."""

    probs: np.ndarray  # (n_clips, n_labels), NaN rows for clips no final row covers
    partials: list[np.ndarray]  # per clip, (k, n_labels) provisional results within its span
    rows: int  # final rows logged
    shared_rows: int  # final rows that cover two or more clips (utterances run together)

    @property
    def covered(self) -> np.ndarray:
        return ~np.isnan(self.probs[:, 0])


def score_calls(
    model: object,
    audio: Sequence[np.ndarray],
    n_labels: int,
    settings: Settings,
    plan: CallPlan = CallPlan(),
    seed: int = 0,
    partial_every_s: float = 0.0,
    babble: Callable[[int], np.ndarray] | None = None,
) -> CallRows:
    """``audio`` (one array per clip) replayed as ``plan``'s calls; each clip's results."""
    probs = np.full((len(audio), n_labels), np.nan)
    partials: list[np.ndarray] = [np.zeros((0, n_labels)) for _ in audio]
    n_rows = shared = 0
    for k, call in enumerate(make_calls(audio, plan, seed)):
        noise = babble(len(call.samples)) if babble is not None else None
        samples = degrade(call, plan, noise, seed + k)
        results = replay(model, samples, settings, partial_every_s)
        finals = [r for r in results if r.final]
        n_rows += len(finals)
        shared += sum(_covers_two(row, call.spans) for row in finals)
        for index, span in zip(call.clips, call.spans, strict=True):
            row = covering(finals, span)
            if row is not None:
                probs[index] = row.probabilities
            inside = [r.probabilities for r in results if not r.final and _within(r, span)]
            if inside:
                partials[index] = np.asarray(inside)
    return CallRows(probs, partials, n_rows, shared)


def _within(row: Prediction, span: tuple[float, float]) -> bool:
    return row.start_s >= span[0] - 0.5 and row.end_s <= span[1] + 0.5


def _covers_two(row: Prediction, spans: Sequence[tuple[float, float]]) -> bool:
    """A row that holds at least a third of two different clips ran two utterances together."""
    held = 0
    for start, end in spans:
        inter = max(0.0, min(end, row.end_s) - max(start, row.start_s))
        held += inter >= (end - start) / 3
    return held >= 2


def with_cuts(settings: Settings, **segmenter: object) -> Settings:
    """``settings`` with some ``[segmenter]`` values replaced (experiments)."""
    return dataclasses.replace(
        settings, segmenter=dataclasses.replace(settings.segmenter, **segmenter)
    )

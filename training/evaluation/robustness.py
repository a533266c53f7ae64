"""End-to-end checks of an exported model through the live pipeline (segmenter with its gain
staging, stream normaliser, speech gate), as ``ser-live --input`` runs it:

- :func:`gain_flips`: a long call made of held-out clips is replayed at 0 dB and at other gains;
  the share of utterances whose label changes (or that vanish) at each gain;
- :func:`non_speech_rows`: synthetic noise, hum, tones, chords and clicks replayed as calls;
  how many rows they produce and how many of those are confident.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from streamer.engine.emotion_stream import EmotionStream
from streamer.model.classifier import Classifier
from streamer.results import Prediction
from streamer.settings import SegmenterSettings, VadSettings, load_settings
from training.data import nonspeech

RATE = 16000
CHUNK = RATE  # one-second blocks: the segmenter's results do not depend on the block size
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)  # calls run on stream time from here


def long_call(clips: Sequence[np.ndarray], seed: int, peak_dbfs: float = -8.0) -> np.ndarray:
    """Clips joined by 0.8-1.6 s pauses of faint noise, peak-normalised (so +6 dB stays clean)."""
    rng = np.random.default_rng(seed)
    parts = []
    for clip in clips:
        parts.append(clip)
        gap = int(RATE * rng.uniform(0.8, 1.6))
        parts.append((10 ** (-70 / 20) * rng.standard_normal(gap)).astype(np.float32))
    call = np.concatenate(parts)
    return (call * (10 ** (peak_dbfs / 20) / max(np.max(np.abs(call)), 1e-9))).astype(np.float32)


def predictions(
    model: Path | Classifier, samples: np.ndarray, vad: VadSettings, segmenter: SegmenterSettings
) -> list[Prediction]:
    """Every row ser-live would log for ``samples`` (a 16 kHz call replayed fast), through a
    fresh :class:`~streamer.engine.emotion_stream.EmotionStream` with these cuts."""
    settings = dataclasses.replace(load_settings(), vad=vad, segmenter=segmenter)
    stream = EmotionStream(model, settings=settings, partial_every_s=0.0, start_time=EPOCH)
    rows = []
    for i in range(0, len(samples), CHUNK):
        rows += stream.feed(samples[i : i + CHUNK])
    return rows + stream.finish()


def replay(
    model: Path, samples: np.ndarray, vad: VadSettings, segmenter: SegmenterSettings
) -> list[tuple[float, float, str, float]]:
    """(start_s, end_s, label, confidence) of every row ser-live would log for ``samples``."""
    return [
        (p.start_s, p.end_s, p.label, p.confidence)
        for p in predictions(model, samples, vad, segmenter)
    ]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def flip_share(reference: list, other: list) -> float:
    """Share of reference rows with no counterpart (overlap >= 0.5) of the same label."""
    if not reference:
        return 0.0
    flips = 0
    for start, end, label, _ in reference:
        best = max(other, key=lambda r: _overlap((start, end), r[:2]), default=None)
        if best is None or _overlap((start, end), best[:2]) < 0.5 or best[2] != label:
            flips += 1
    return flips / len(reference)


@dataclass
class GainFlips:
    utterances: int
    shares: dict[str, float]  # "-20 dB" -> share of utterances whose label changed


def gain_flips(
    model: Path,
    call: np.ndarray,
    vad: VadSettings,
    segmenter: SegmenterSettings,
    gains_db: Sequence[float] = (-20.0, -6.0, 6.0),
) -> GainFlips:
    reference = replay(model, call, vad, segmenter)
    shares = {}
    for gain in gains_db:
        scaled = np.clip(call * np.float32(10 ** (gain / 20)), -1.0, 1.0).astype(np.float32)
        shares[f"{gain:+.0f} dB"] = flip_share(reference, replay(model, scaled, vad, segmenter))
    return GainFlips(len(reference), shares)


@dataclass
class NonSpeech:
    rows: dict[str, int]  # signal -> rows logged
    confident: dict[str, int]  # signal -> rows at or above the uncertain threshold

    @property
    def total_confident(self) -> int:
        return sum(self.confident.values())


def non_speech_rows(
    model: Path,
    vad: VadSettings,
    segmenter: SegmenterSettings,
    uncertain_below: float,
    seconds: float = 20.0,
    levels_db: Sequence[float] = (0.0, -20.0),
) -> NonSpeech:
    rows, confident = {}, {}
    for name, signal in nonspeech.signals(seconds).items():
        for level in levels_db:
            key = f"{name} {level:+.0f} dB"
            out = replay(model, (signal * np.float32(10 ** (level / 20))), vad, segmenter)
            rows[key] = len(out)
            confident[key] = sum(1 for r in out if r[3] >= uncertain_below)
    return NonSpeech(rows, confident)


@dataclass
class CallScores:
    utterances: int  # rows logged for the call
    matched: int  # clips with a row covering at least half of them
    clips: int
    ua_shared: float  # arg-max over the classes model and corpus share
    ua_4class: float  # arg-max over neutral / happy / sad / angry
    wa_4class: float


def call_scores(
    model: Path,
    clips: Sequence[np.ndarray],
    labels: Sequence[str],
    vad: VadSettings,
    segmenter: SegmenterSettings,
    seed: int = 0,
) -> CallScores:
    """Labelled clips joined into one long call and replayed through ser-live's pipeline; each
    clip is scored by the row that covers most of it (no row: counted wrong), so segmentation,
    the stream normaliser's cold start and the speech gate all count, as in a real replay."""
    from training.evaluation.metrics import unweighted_accuracy

    rng = np.random.default_rng(seed)
    gaps = [int(RATE * rng.uniform(0.8, 1.6)) for _ in clips]
    parts, spans, t = [], [], 0
    for clip, gap in zip(clips, gaps, strict=True):
        parts += [clip, (10 ** (-70 / 20) * rng.standard_normal(gap)).astype(np.float32)]
        spans.append((t / RATE, (t + len(clip)) / RATE))
        t += len(clip) + gap
    call = np.concatenate(parts)
    call = (call * (10 ** (-8 / 20) / max(np.max(np.abs(call)), 1e-9))).astype(np.float32)
    classifier = Classifier(model)
    rows = predictions(classifier, call, vad, segmenter)
    model_labels = list(classifier.labels)

    def covering(span: tuple[float, float]):
        best, cover = None, 0.0
        for row in rows:
            inter = max(0.0, min(span[1], row.end_s) - max(span[0], row.start_s))
            if inter > cover:
                best, cover = row, inter
        return best if cover >= 0.5 * (span[1] - span[0]) else None

    covered = [covering(span) for span in spans]

    def scores(classes: list[str]) -> tuple[float, float]:
        keep = [i for i, lab in enumerate(labels) if lab in classes]
        idx = [model_labels.index(c) for c in classes]
        y, pred = [], []
        for i in keep:
            y.append(classes.index(labels[i]))
            row = covered[i]
            pred.append(-1 if row is None else int(np.argmax(np.array(row.probabilities)[idx])))
        y_arr, p_arr = np.array(y), np.array(pred)
        wa = float(np.mean(y_arr == p_arr)) if len(y_arr) else float("nan")
        p_arr = np.where(p_arr < 0, len(classes), p_arr)  # no row: a class of its own, wrong
        ua = unweighted_accuracy(y_arr, p_arr, len(classes) + 1) if len(y_arr) else float("nan")
        return ua, wa

    shared = [c for c in model_labels if c in set(labels)]
    four = [c for c in ("neutral", "happy", "sad", "angry") if c in model_labels]
    ua_shared, _ = scores(shared)
    ua4, wa4 = scores(four)
    return CallScores(
        len(rows), sum(r is not None for r in covered), len(clips), ua_shared, ua4, wa4
    )

"""End-to-end checks of an exported model through the streaming engine, as ``ser-live --input``
runs it (:func:`training.evaluation.calls.replay`):

- :func:`gain_flips`: a long call made of held-out clips is replayed at 0 dB and at other gains;
  the share of utterances whose label changes (or that vanish) at each gain;
- :func:`non_speech_rows`: synthetic noise, hum, tones, chords and clicks replayed as calls;
  how many rows they produce and how many of those are confident;
- :func:`call_scores`: labelled clips replayed as one long call, scored clip by clip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamer.model.classifier import Classifier
from streamer.results import Prediction
from streamer.settings import SegmenterSettings, Settings, VadSettings, load_settings
from training.data import nonspeech
from training.evaluation import calls
from training.evaluation.loco import FOUR_CLASSES, score_classes

RATE = calls.RATE


def settings_with(vad: VadSettings, segmenter: SegmenterSettings) -> Settings:
    """The shipped settings with these cuts (what a training run's --config gave)."""
    return dataclasses.replace(load_settings(), vad=vad, segmenter=segmenter)


def long_call(clips: Sequence[np.ndarray], seed: int, peak_dbfs: float = -8.0) -> np.ndarray:
    """Clips joined by 0.8-1.6 s pauses of faint noise, peak-normalised (so +6 dB stays clean)."""
    plan = calls.CallPlan(peak_dbfs=peak_dbfs)
    rng = np.random.default_rng(seed)
    return calls._join(clips, list(range(len(clips))), plan, rng).samples


def predictions(
    model: Path | Classifier, samples: np.ndarray, vad: VadSettings, segmenter: SegmenterSettings
) -> list[Prediction]:
    """Every row ser-live would log for ``samples`` (a 16 kHz call replayed fast)."""
    return calls.replay(model, samples, settings_with(vad, segmenter))


def replay(
    model: Path | Classifier, samples: np.ndarray, vad: VadSettings, segmenter: SegmenterSettings
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
    model: Path | Classifier,
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
    model: Path | Classifier,
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
    """Labelled clips joined into one long call (in the given order) and replayed through the
    engine; each clip is scored by the row that covers most of it (no row: counted wrong)."""
    classifier = Classifier(model)
    model_labels = classifier.labels
    plan = calls.CallPlan()
    call = calls._join(clips, list(range(len(clips))), plan, np.random.default_rng(seed))
    rows = [r for r in predictions(classifier, call.samples, vad, segmenter) if r.final]
    probs = np.full((len(clips), len(model_labels)), np.nan)
    for i, span in enumerate(call.spans):
        row = calls.covering(rows, span)
        if row is not None:
            probs[i] = row.probabilities
    y = np.array([model_labels.index(lab) if lab in model_labels else -1 for lab in labels])
    shared = [c for c in model_labels if c in set(labels)]
    four = score_classes(model_labels, y, probs, [c for c in FOUR_CLASSES if c in model_labels])
    every = score_classes(model_labels, y, probs, shared)
    nan = float("nan")
    return CallScores(
        len(rows),
        int((~np.isnan(probs[:, 0])).sum()),
        len(clips),
        every.ua if every else nan,
        four.ua if four else nan,
        four.wa if four else nan,
    )

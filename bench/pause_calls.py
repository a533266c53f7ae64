"""Test calls for the segmenter: real words joined by pauses over a chosen noise floor, and
the scores of a segmentation against where the words really are.

A *word* here is one corpus clip (a word or a short sentence), scaled so its loudest 30 ms frame
sits at ``speech_peak_dbfs`` (frame RMS); its voiced stretch is found by energy. A call is a
lead-in, then the words each followed by ``pause_s``, over a noise floor (white or pink, at
``floor_dbfs`` RMS; ``None`` = digital silence): see :class:`CallSpec`. Nothing here is written
to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 16000
FRAME = 480  # 30 ms
TRIM_DB = 35.0  # a word's voiced stretch: frames within this of its loudest frame
CORPUS_GLOBS = {"ravdess": "Actor_*/*.flac", "emodb": "*.flac", "nemo": "*.flac"}


def frame_db(samples: np.ndarray) -> np.ndarray:
    n = len(samples) // FRAME
    frames = samples[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


@dataclass(frozen=True)
class Word:
    """A clip scaled so its loudest 30 ms frame is at 0 dBFS RMS; ``start``:``stop`` (samples)
    is its voiced stretch, the frames within TRIM_DB of the loudest."""

    samples: np.ndarray
    start: int
    stop: int

    def trimmed(self) -> Word:
        return Word(self.samples[self.start : self.stop], 0, self.stop - self.start)


def as_word(samples: np.ndarray) -> Word:
    db = frame_db(samples)
    loud = np.flatnonzero(db > db.max() - TRIM_DB)
    scaled = (samples.astype(np.float64) * 10 ** (-db.max() / 20)).astype(np.float32)
    return Word(scaled, int(loud[0] * FRAME), int((loud[-1] + 1) * FRAME))


def corpus_words(
    data_dir: Path, corpus: str, count: int, seed: int, max_s: float = 4.0
) -> list[Word]:
    """``count`` clips of one corpus, picked at random, as recorded (their own room tone kept)."""
    import soundfile as sf

    paths = sorted((Path(data_dir) / corpus).glob(CORPUS_GLOBS[corpus]))
    if not paths:
        raise FileNotFoundError(f"no {corpus} clips under {data_dir}")
    rng = np.random.default_rng(seed)
    words = []
    for index in rng.permutation(len(paths)):
        samples, rate = sf.read(str(paths[index]), dtype="float32", always_2d=True)
        word = as_word(samples.mean(axis=1))
        if rate == SR and word.stop - word.start <= max_s * SR:
            words.append(word)
        if len(words) == count:
            break
    return words


def noise(n: int, floor_dbfs: float | None, colour: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of white or pink (1/f power) noise at ``floor_dbfs`` RMS; None: zeros."""
    if floor_dbfs is None or n == 0:
        return np.zeros(n, dtype=np.float64)
    white = rng.standard_normal(n)
    if colour == "pink":
        spectrum = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1 / SR)
        spectrum[1:] /= np.sqrt(f[1:] / f[1])
        spectrum[0] = 0
        white = np.fft.irfft(spectrum, n)
    return white * (10 ** (floor_dbfs / 20) / np.sqrt(np.mean(white**2)))


@dataclass(frozen=True)
class Call:
    samples: np.ndarray
    words: list[tuple[float, float]]  # (start_s, end_s) of each word's voiced stretch


@dataclass(frozen=True)
class CallSpec:
    """How to join words. ``kind`` "filled": each clip as recorded, the pauses (and the lead-in)
    filled with the noise floor (digital silence for ``floor_dbfs`` None), the way the issue's
    check builds its calls; "room": clips trimmed to their voiced stretch and the floor running
    under the whole call, speech included, as in a room."""

    kind: str = "filled"
    pause_s: float = 1.5
    floor_dbfs: float | None = None
    colour: str = "white"
    speech_peak_dbfs: float = -17.0
    gain_db: float = 0.0  # applied to the finished call (speech and floor alike)
    lead_s: float = 1.0


def build_call(words: list[Word], spec: CallSpec, seed: int = 0) -> Call:
    rng = np.random.default_rng(seed)
    room = spec.kind == "room"
    if room:
        words = [w.trimmed() for w in words]
    scale = 10 ** (spec.speech_peak_dbfs / 20)
    fill = (lambda n: np.zeros(n)) if room else (
        lambda n: noise(n, spec.floor_dbfs, spec.colour, rng)
    )
    lead, gap = int(spec.lead_s * SR), int(round(spec.pause_s * SR))
    parts, spans, at = [fill(lead)], [], lead
    for word in words:
        parts += [word.samples.astype(np.float64) * scale, fill(gap)]
        spans.append(((at + word.start) / SR, (at + word.stop) / SR))
        at += len(word.samples) + gap
    audio = np.concatenate(parts)
    if room:
        audio += noise(len(audio), spec.floor_dbfs, spec.colour, rng)
    audio *= 10 ** (spec.gain_db / 20)
    return Call(np.clip(audio, -1, 1).astype(np.float32), spans)


def segment(segmenter, samples: np.ndarray, chunk: int = 480) -> list[tuple[float, float]]:
    """Final utterances as (start_s, end_s), fed in ``chunk``-sample blocks as a stream is."""
    segmenter.reset()
    found = []
    for start in range(0, len(samples), chunk):
        found += segmenter.feed(samples[start : start + chunk])
    found += segmenter.flush()
    return [(u.start_s, u.end_s) for u in found if u.final]


@dataclass(frozen=True)
class Scores:
    pairs: int
    shared: int  # adjacent words covered by one utterance
    words: int
    missed: int  # words no utterance overlaps
    split: int  # words that two or more utterances overlap (a boundary inside the word)
    utterances: int

    @property
    def shared_share(self) -> float:
        return self.shared / self.pairs if self.pairs else 0.0

    def __add__(self, other: Scores) -> Scores:
        return Scores(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (self.pairs, self.shared, self.words, self.missed, self.split, self.utterances)


MIN_OVERLAP_S = 0.06  # two frames: less than this is a boundary frame, not coverage


def score(utterances: list[tuple[float, float]], words: list[tuple[float, float]]) -> Scores:
    covers = [
        {i for i, (us, ue) in enumerate(utterances) if min(ue, we) - max(us, ws) >= MIN_OVERLAP_S}
        for ws, we in words
    ]
    shared = sum(bool(a & b) for a, b in zip(covers, covers[1:], strict=False))
    return Scores(
        pairs=len(words) - 1,
        shared=shared,
        words=len(words),
        missed=sum(not c for c in covers),
        split=sum(len(c) >= 2 for c in covers),
        utterances=len(utterances),
    )

"""Labelled clips, the one format every corpus reader and manifest produces, and the common
label vocabulary (the model's column order)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from streamer.errors import InputError

LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
    "boredom",
)
AUDIO_SUFFIXES = (".wav", ".flac")


class CorpusError(InputError, ValueError):
    """A corpus folder is missing or holds no clip with a recognisable name."""


@dataclass(frozen=True)
class Clip:
    path: Path
    corpus: str
    speaker: str  # "<corpus>:<id>"
    label: str
    session: str = ""  # a manifest's recording session: normalised as a stream of its own


def labels_in(clips: Iterable[Clip]) -> tuple[str, ...]:
    """Labels present, in the order of the common vocabulary (the model's column order), then
    any other label (a manifest's own label set) in alphabetical order."""
    present = {clip.label for clip in clips}
    known = tuple(label for label in LABELS if label in present)
    return known + tuple(sorted(present - set(LABELS)))

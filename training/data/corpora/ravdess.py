"""RAVDESS: North American English, 24 actors, 8 emotions, two sentences; speech only (not song).

File names ``MM-VV-EE-II-SS-RR-AA`` (modality, vocal channel 01 speech / 02 song, emotion,
intensity, statement, repetition, actor)."""

from __future__ import annotations

import re
from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def parse(path: Path) -> Clip | None:
    match = _NAME.match(path.stem)
    if not match or match.group(2) != "01":  # speech only, not song
        return None
    label = EMOTIONS.get(match.group(3))
    if label is None:
        return None
    return Clip(path, "ravdess", f"ravdess:{match.group(7)}", label)


READER = CorpusReader(
    name="ravdess",
    folders=("ravdess", "RAVDESS"),
    parse=parse,
    codes=EMOTIONS,
    language="English (North American)",
    licence="CC BY-NC-SA 4.0 (Livingstone & Russo 2018)",
)

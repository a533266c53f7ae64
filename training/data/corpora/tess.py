"""TESS: English, two speakers (OAF older, YAF younger), 7 emotions; ``OAF_back_angry``,
``ps`` = pleasant surprise."""

from __future__ import annotations

from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "neutral": "neutral",
    "happy": "happy",
    "sad": "sad",
    "angry": "angry",
    "fear": "fearful",
    "disgust": "disgust",
    "ps": "surprised",
    "surprise": "surprised",
    "surprised": "surprised",
}


def parse(path: Path) -> Clip | None:
    parts = path.stem.split("_")
    if len(parts) < 3 or parts[0].upper() not in ("OAF", "YAF"):
        return None
    label = EMOTIONS.get(parts[-1].lower())
    if label is None:
        return None
    return Clip(path, "tess", f"tess:{parts[0].upper()}", label)


READER = CorpusReader(
    name="tess",
    folders=("tess", "TESS"),
    parse=parse,
    codes=EMOTIONS,
    language="English (Canadian)",
    licence="CC BY-NC-ND 4.0 (Pichora-Fuller & Dupuis 2020)",
)

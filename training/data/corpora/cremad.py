"""CREMA-D: English, 91 actors, 6 emotions. File names ``ActorID_Sentence_Emotion_Level``."""

from __future__ import annotations

import re
from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "NEU": "neutral",
    "HAP": "happy",
    "SAD": "sad",
    "ANG": "angry",
    "FEA": "fearful",
    "DIS": "disgust",
}
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")


def parse(path: Path) -> Clip | None:
    match = _NAME.match(path.stem)
    if not match:
        return None
    label = EMOTIONS.get(match.group(3))
    if label is None:
        return None
    return Clip(path, "cremad", f"cremad:{match.group(1)}", label)


READER = CorpusReader(
    name="cremad",
    folders=("cremad", "crema-d", "CREMA-D", "AudioWAV"),
    parse=parse,
    codes=EMOTIONS,
    language="English",
    licence="Open Database License / Database Contents License (Cao et al. 2014)",
)

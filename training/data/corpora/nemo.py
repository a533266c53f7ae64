"""nEMO: Polish, 9 actors, 6 emotional states (Christop 2024, LREC-COLING).

File names ``SSS_emotion_N`` (speaker, emotion word, sentence number), e.g. ``EB0_anger_12``."""

from __future__ import annotations

import re
from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "anger": "angry",
    "fear": "fearful",
    "happiness": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprised": "surprised",
}
_NAME = re.compile(r"^([A-Z]{2}\d)_([a-z]+)_(\d+)$")


def parse(path: Path) -> Clip | None:
    match = _NAME.match(path.stem)
    if not match:
        return None
    label = EMOTIONS.get(match.group(2))
    if label is None:
        return None
    return Clip(path, "nemo", f"nemo:{match.group(1)}", label)


READER = CorpusReader(
    name="nemo",
    folders=("nemo", "nEMO"),
    parse=parse,
    codes=EMOTIONS,
    language="Polish",
    licence="CC BY-NC-SA 4.0 (Christop 2024)",
)

"""EmoDB (Berlin Database of Emotional Speech): German, 10 actors, 7 emotions.

File names ``SSTTTEV``: speaker, text, emotion letter, version."""

from __future__ import annotations

import re
from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
_NAME = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")


def parse(path: Path) -> Clip | None:
    match = _NAME.match(path.stem)
    if not match:
        return None
    return Clip(path, "emodb", f"emodb:{match.group(1)}", EMOTIONS[match.group(3)])


READER = CorpusReader(
    name="emodb",
    folders=("emodb", "EmoDB", "emo-db"),
    parse=parse,
    codes=EMOTIONS,
    language="German",
    licence="free for research (Burkhardt et al. 2005); see the corpus's own terms",
)

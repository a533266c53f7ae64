"""SAVEE: British English, 4 male speakers, 7 emotions; ``DC_a01`` or ``DC/a01``."""

from __future__ import annotations

import re
from pathlib import Path

from training.data.clips import Clip
from training.data.corpora.reader import CorpusReader

EMOTIONS = {
    "n": "neutral",
    "h": "happy",
    "sa": "sad",
    "a": "angry",
    "f": "fearful",
    "d": "disgust",
    "su": "surprised",
}
_NAME = re.compile(r"^(?:([A-Z]{2})_)?(sa|su|[ahfdn])(\d\d)$")


def parse(path: Path) -> Clip | None:
    match = _NAME.match(path.stem)
    if not match:
        return None
    speaker = match.group(1) or path.parent.name.upper()
    if not re.fullmatch(r"[A-Z]{2}", speaker):
        return None
    return Clip(path, "savee", f"savee:{speaker}", EMOTIONS[match.group(2)])


READER = CorpusReader(
    name="savee",
    folders=("savee", "SAVEE"),
    parse=parse,
    codes=EMOTIONS,
    language="English (British)",
    licence="free for research (Jackson & Haq 2014); see the corpus's own terms",
)

"""Corpus readers: file names of the public emotional-speech corpora -> labelled clips.

Every reader only parses file names (no audio is read), so it works on any copy of a corpus
whose files keep their published names, whatever the extension (.wav or .flac).

Common label vocabulary and the mapping from each corpus's own codes (also in models/README.md):

| common     | RAVDESS (EE) | EmoDB (E)  | CREMA-D | TESS     | SAVEE |
|------------|--------------|------------|---------|----------|-------|
| neutral    | 01           | N          | NEU     | neutral  | n     |
| calm       | 02           | -          | -       | -        | -     |
| happy      | 03           | F          | HAP     | happy    | h     |
| sad        | 04           | T          | SAD     | sad      | sa    |
| angry      | 05           | W          | ANG     | angry    | a     |
| fearful    | 06           | A          | FEA     | fear     | f     |
| disgust    | 07           | E          | DIS     | disgust  | d     |
| surprised  | 08           | -          | -       | ps       | su    |
| boredom    | -            | L          | -       | -        | -     |

Speaker ids are prefixed with the corpus name (``ravdess:07``) so they never collide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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


RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
EMODB_EMOTIONS = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
CREMAD_EMOTIONS = {
    "NEU": "neutral",
    "HAP": "happy",
    "SAD": "sad",
    "ANG": "angry",
    "FEA": "fearful",
    "DIS": "disgust",
}
TESS_EMOTIONS = {
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
SAVEE_EMOTIONS = {
    "n": "neutral",
    "h": "happy",
    "sa": "sad",
    "a": "angry",
    "f": "fearful",
    "d": "disgust",
    "su": "surprised",
}

# RAVDESS: MM-VV-EE-II-SS-RR-AA (modality, vocal channel 01 speech / 02 song, emotion,
# intensity, statement, repetition, actor).
_RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
# EmoDB: SS speaker, TTT text, E emotion letter, V version letter.
_EMODB = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")
# CREMA-D: ActorID_Sentence_Emotion_Level, e.g. 1001_DFA_ANG_XX.
_CREMAD = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
# SAVEE: speaker-prefixed (DC_a01) or inside a speaker folder (DC/a01).
_SAVEE = re.compile(r"^(?:([A-Z]{2})_)?(sa|su|[ahfdn])(\d\d)$")


def parse_ravdess(path: Path) -> Clip | None:
    match = _RAVDESS.match(path.stem)
    if not match or match.group(2) != "01":  # speech only, not song
        return None
    label = RAVDESS_EMOTIONS.get(match.group(3))
    if label is None:
        return None
    return Clip(path, "ravdess", f"ravdess:{match.group(7)}", label)


def parse_emodb(path: Path) -> Clip | None:
    match = _EMODB.match(path.stem)
    if not match:
        return None
    return Clip(path, "emodb", f"emodb:{match.group(1)}", EMODB_EMOTIONS[match.group(3)])


def parse_cremad(path: Path) -> Clip | None:
    match = _CREMAD.match(path.stem)
    if not match:
        return None
    label = CREMAD_EMOTIONS.get(match.group(3))
    if label is None:
        return None
    return Clip(path, "cremad", f"cremad:{match.group(1)}", label)


def parse_tess(path: Path) -> Clip | None:
    """TESS: ``OAF_back_angry.wav``; speakers OAF (older) and YAF (younger); ps = surprise."""
    parts = path.stem.split("_")
    if len(parts) < 3 or parts[0].upper() not in ("OAF", "YAF"):
        return None
    label = TESS_EMOTIONS.get(parts[-1].lower())
    if label is None:
        return None
    return Clip(path, "tess", f"tess:{parts[0].upper()}", label)


def parse_savee(path: Path) -> Clip | None:
    match = _SAVEE.match(path.stem)
    if not match:
        return None
    speaker = match.group(1) or path.parent.name.upper()
    if not re.fullmatch(r"[A-Z]{2}", speaker):
        return None
    return Clip(path, "savee", f"savee:{speaker}", SAVEE_EMOTIONS[match.group(2)])


PARSERS: dict[str, Callable[[Path], Clip | None]] = {
    "ravdess": parse_ravdess,
    "emodb": parse_emodb,
    "cremad": parse_cremad,
    "tess": parse_tess,
    "savee": parse_savee,
}
# Folder names a corpus is commonly found under, below the data root.
FOLDERS: dict[str, tuple[str, ...]] = {
    "ravdess": ("ravdess", "RAVDESS"),
    "emodb": ("emodb", "EmoDB", "emo-db"),
    "cremad": ("cremad", "crema-d", "CREMA-D", "AudioWAV"),
    "tess": ("tess", "TESS"),
    "savee": ("savee", "SAVEE"),
}


def corpus_dir(root: Path, corpus: str) -> Path:
    if corpus not in PARSERS:
        raise CorpusError(f"unknown corpus {corpus!r} (known: {', '.join(PARSERS)})")
    for name in FOLDERS[corpus]:
        if (root / name).is_dir():
            return root / name
    raise CorpusError(f"corpus {corpus!r} not found under {root} (expected folder {corpus}/)")


def _audio_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)


def read_corpus(root: Path, corpus: str) -> list[Clip]:
    """All clips of one corpus below ``root``, sorted by path (deterministic order)."""
    folder = corpus_dir(Path(root), corpus)
    parse = PARSERS[corpus]
    clips = [clip for path in _audio_files(folder) if (clip := parse(path)) is not None]
    if not clips:
        raise CorpusError(f"no {corpus} clips with recognisable file names in {folder}")
    return clips


def read_corpora(root: Path, corpora: Iterable[str]) -> list[Clip]:
    clips: list[Clip] = []
    for corpus in corpora:
        clips.extend(read_corpus(root, corpus))
    return clips


def labels_in(clips: Iterable[Clip]) -> tuple[str, ...]:
    """Labels present, in the order of the common vocabulary (the model's column order), then
    any other label (a manifest's own label set) in alphabetical order."""
    present = {clip.label for clip in clips}
    known = tuple(label for label in LABELS if label in present)
    return known + tuple(sorted(present - set(LABELS)))

"""The corpus registry: every corpus ser-train can read, one reader module each.

A new corpus is one module defining a :class:`~training.data.corpora.reader.CorpusReader`
(``READER``) plus one line in :data:`CORPORA`; nothing else names a corpus.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from training.data.clips import LABELS, Clip, CorpusError, labels_in
from training.data.corpora import cremad, emodb, nemo, ravdess, savee, tess
from training.data.corpora.reader import CorpusReader

__all__ = ["CORPORA", "LABELS", "Clip", "CorpusError", "CorpusReader", "labels_in"]

CORPORA: dict[str, CorpusReader] = {
    "ravdess": ravdess.READER,
    "emodb": emodb.READER,
    "nemo": nemo.READER,
    "cremad": cremad.READER,
    "tess": tess.READER,
    "savee": savee.READER,
}


def reader(name: str) -> CorpusReader:
    if name not in CORPORA:
        raise CorpusError(f"unknown corpus {name!r} (known: {', '.join(CORPORA)})")
    return CORPORA[name]


def read_corpus(root: Path, name: str) -> list[Clip]:
    """All clips of one corpus below ``root``, sorted by path (deterministic order)."""
    return reader(name).read(Path(root))


def read_corpora(root: Path, names: Iterable[str]) -> list[Clip]:
    return [clip for name in names for clip in read_corpus(root, name)]


def mapping_table() -> str:
    """Markdown: each corpus's codes -> the common labels (the model card shows it)."""
    names = list(CORPORA)
    rows = ["| common | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label in LABELS:
        cells = [
            ", ".join(code for code, common in CORPORA[n].codes.items() if common == label) or "-"
            for n in names
        ]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)

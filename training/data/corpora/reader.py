"""What a corpus reader is: file names of a published corpus -> labelled clips.

Readers only parse file names (no audio is read), so they work on any copy of a corpus whose
files keep their published names, whatever the extension (.wav or .flac). Speaker ids are
prefixed with the corpus name (``ravdess:07``) so they never collide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from training.data.clips import AUDIO_SUFFIXES, Clip, CorpusError


@dataclass(frozen=True)
class CorpusReader:
    name: str
    folders: tuple[str, ...]  # folder names the corpus is commonly found under, below the root
    parse: Callable[[Path], Clip | None]  # one file -> its clip, or None (not one of ours)
    codes: dict[str, str]  # the corpus's own emotion codes -> the common labels
    language: str = ""
    licence: str = ""  # what the model card says about using it
    notes: tuple[str, ...] = field(default=())

    def folder(self, root: Path) -> Path:
        for name in self.folders:
            if (root / name).is_dir():
                return root / name
        raise CorpusError(
            f"corpus {self.name!r} not found under {root} (expected folder {self.folders[0]}/)"
        )

    def read(self, root: Path) -> list[Clip]:
        """All clips below ``root``, sorted by path (a deterministic order)."""
        folder = self.folder(Path(root))
        clips = [clip for path in _audio_files(folder) if (clip := self.parse(path)) is not None]
        if not clips:
            raise CorpusError(f"no {self.name} clips with recognisable file names in {folder}")
        return clips


def _audio_files(folder: Path) -> Iterable[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)

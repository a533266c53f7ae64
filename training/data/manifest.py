"""Your own recordings as clips: a CSV manifest (``--manifest``) or a ``DIR/<label>/*.wav`` folder
(``--folder`` with ``--speaker-regex``).

Manifest columns: ``path,label,speaker`` and optionally ``corpus`` and ``session``; paths are
relative to the manifest. A row's corpus defaults to the manifest's file name (``ours.csv`` ->
``ours``); each corpus, or each session when the manifest names one, is normalised as a stream of
its own, and speakers are prefixed with their corpus (``ours:anna``) like the built-in readers do.

Every problem names its place (``ours.csv line 7: ...``, lines counted from 1 with the header):
a missing file, an empty label or speaker, an unknown column or a label that is not a plain name
stop the read; an unreadable file stops it too, or is skipped and counted (``on_unreadable``);
a label the ``--labels`` list drops is counted, never an error.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

from streamer.errors import InputError, reason
from training.data.clips import AUDIO_SUFFIXES, Clip
from training.data.labels import PLAIN_RULE, LabelPlan, is_plain

REQUIRED = ("path", "label", "speaker")
OPTIONAL = ("corpus", "session")
ON_UNREADABLE = ("stop", "skip")


class ManifestError(InputError, ValueError):
    """A manifest or folder that cannot be read as labelled clips; the message names the row."""


@dataclass
class Source:
    """Clips read from one manifest or folder, and what was left out of them."""

    name: str  # the manifest or folder as given
    kind: str  # "manifest" or "folder"
    clips: list[Clip]
    digest: str | None = None  # sha256 of a manifest file
    skipped: list[str] = field(default_factory=list)  # one line per unreadable file skipped
    dropped: Counter[str] = field(default_factory=Counter)  # labels --labels left out

    def describe(self) -> dict[str, object]:
        """What the model card and metadata record about this source."""
        out: dict[str, object] = {self.kind: Path(self.name).name, "clips": len(self.clips)}
        if self.digest:
            out["sha256"] = self.digest
        if self.skipped:
            out["unreadable_skipped"] = len(self.skipped)
        if self.dropped:
            out["dropped_by_labels"] = dict(sorted(self.dropped.items()))
        return out


def corpus_name(stem: str) -> str:
    """A plain corpus name from a file or folder name (``My data`` -> ``My_data``)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:40]
    return name if is_plain(name) else "own"


def _unreadable(path: Path) -> str | None:
    """Why soundfile cannot open ``path``, or None when it can (header only, no samples)."""
    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError) as exc:  # soundfile's errors are RuntimeErrors
        return reason(exc)
    if info.frames <= 0:
        return "no samples"
    return None


def _check_audio(path: Path, where: str, on_unreadable: str, source: Source) -> bool:
    """True when the file can be used; a missing file is always an error."""
    if not path.is_file():
        raise ManifestError(f"{where}: audio file not found: {path}")
    reason = _unreadable(path)
    if reason is None:
        return True
    line = f"{where}: unreadable audio file {path} ({reason})"
    if on_unreadable == "stop":
        raise ManifestError(f"{line}; pass --on-unreadable skip to leave such files out")
    source.skipped.append(line)
    return False


def _label(raw: str, plan: LabelPlan, where: str, source: Source) -> str | None:
    if not raw:
        raise ManifestError(f"{where}: empty label")
    name = plan.label(raw)
    if name is None:
        source.dropped[plan.rename.get(raw, raw)] += 1
        return None
    if not is_plain(name):
        hint = " (or --map it to one)" if name == raw else ""
        raise ManifestError(f"{where}: label {name!r} is not a plain name ({PLAIN_RULE}){hint}")
    return name


def read_manifest(path: Path, plan: LabelPlan, on_unreadable: str = "stop") -> Source:
    """Clips of a CSV manifest, in row order."""
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise ManifestError(f"manifest {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"manifest {path}: not UTF-8 text") from None
    source = Source(str(path), "manifest", [], digest=hashlib.sha256(data).hexdigest())
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise ManifestError(f"{name} line 1: no header (expected {','.join(REQUIRED)})")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        known = ", ".join(REQUIRED + OPTIONAL)
        raise ManifestError(f"{name} line 1: unknown column {unknown[0]!r} (known: {known})")
    lacking = [h for h in REQUIRED if h not in header]
    if lacking:
        raise ManifestError(f"{name} line 1: no {lacking[0]!r} column")
    if len(set(header)) != len(header):
        raise ManifestError(f"{name} line 1: a column is named twice")
    default_corpus = corpus_name(path.stem)
    for values in reader:
        where = f"{name} line {reader.line_num}"
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(values) != len(header):
            raise ManifestError(f"{where}: {len(values)} values for {len(header)} columns")
        row = {h: v.strip() for h, v in zip(header, values, strict=True)}
        if not row["path"]:
            raise ManifestError(f"{where}: empty path")
        if not row["speaker"]:
            raise ManifestError(f"{where}: empty speaker")
        label = _label(row["label"], plan, where, source)
        if label is None:
            continue
        corpus = row.get("corpus") or default_corpus
        if not is_plain(corpus):
            raise ManifestError(f"{where}: corpus {corpus!r} is not a plain name ({PLAIN_RULE})")
        audio = path.parent / row["path"]
        if not _check_audio(audio, where, on_unreadable, source):
            continue
        speaker = f"{corpus}:{row['speaker']}"
        source.clips.append(Clip(audio, corpus, speaker, label, row.get("session", "")))
    if not source.clips:
        raise ManifestError(f"{name}: no usable rows")
    return source


def speaker_pattern(text: str) -> re.Pattern[str]:
    """``--speaker-regex``: searched in the file name, its one capture group is the speaker."""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        raise ManifestError(f"--speaker-regex {text!r}: {exc}") from None
    if pattern.groups != 1:
        raise ManifestError(
            f"--speaker-regex {text!r}: needs exactly one capture group, has {pattern.groups}"
        )
    return pattern


def read_folder(
    folder: Path, speaker_regex: str, plan: LabelPlan, on_unreadable: str = "stop"
) -> Source:
    """Clips of ``folder/<label>/*.wav`` (or .flac), sorted by path; the speaker is the capture
    group of ``speaker_regex`` searched in each file name."""
    folder = Path(folder)
    pattern = speaker_pattern(speaker_regex)
    if not folder.is_dir():
        raise ManifestError(f"--folder {folder}: not a folder")
    corpus = corpus_name(folder.resolve().name)
    source = Source(str(folder), "folder", [])
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(p for p in sub.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        for audio in files:
            where = f"{folder.name}/{sub.name}/{audio.name}"
            label = _label(sub.name, plan, where, source)
            if label is None:
                continue
            match = pattern.search(audio.name)
            if match is None or not match.group(1):
                raise ManifestError(f"{where}: --speaker-regex '{speaker_regex}' finds no speaker")
            if not _check_audio(audio, where, on_unreadable, source):
                continue
            source.clips.append(Clip(audio, corpus, f"{corpus}:{match.group(1)}", label))
    if not source.clips:
        raise ManifestError(f"--folder {folder}: no audio files in <label>/ sub-folders")
    return source

"""A tiny labelled corpus the project does not know, spoken by espeak-ng: voices and pitches are
the "speakers", speaking rate and pitch the "emotions" (so a model can learn them)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from streamer.live.demo import speak

SPEAKERS = {"ann": ("en-us", 70), "bob": ("en-gb", 25), "cat": ("en-us", 55), "dan": ("en-gb", 35)}
# label -> (words per minute, pitch offset): the contact-centre label set of issue 14
STYLES = {"frustrated": (230, 20), "satisfied": (150, 10), "neutral": (170, -15)}
LINES = (
    "I have been waiting for the parcel since Monday.",
    "Could you tell me where my order is now?",
    "The engineer came round this morning.",
)


def write_clip(path: Path, text: str, speaker: str, style: str) -> None:
    voice, pitch = SPEAKERS[speaker]
    wpm, offset = STYLES[style]
    samples, rate = speak(text, wpm, pitch + offset, voice)
    pad = np.zeros(int(0.3 * rate), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate([pad, samples, pad]), rate, subtype="PCM_16")


def make_corpus(root: Path, lines: tuple[str, ...] = LINES) -> list[dict[str, str]]:
    """``root/<speaker>/<label>_<n>.wav`` for every speaker, style and line; the manifest rows."""
    rows = []
    for speaker in SPEAKERS:
        for style in STYLES:
            for n, text in enumerate(lines):
                rel = Path(speaker) / f"{style}_{n}.wav"
                write_clip(root / rel, text, speaker, style)
                rows.append({"path": rel.as_posix(), "label": style, "speaker": speaker})
    return rows


def write_manifest(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path

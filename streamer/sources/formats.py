"""Recordings libsndfile cannot decode, told apart so the refusal can say what to do.

Phones, browsers and meeting tools record M4A/AAC (MP4 boxes: ``ftyp`` at byte 4), WebM/MKA
(Matroska), WMA (ASF) and AMR, none of which libsndfile reads. A file is recognised by its
first bytes (a name can lie) or, failing that, by its extension; the one-line refusal then
names the ffmpeg command that converts it on the fly.
"""

from __future__ import annotations

import shlex
from pathlib import Path

# (name, test on the first bytes)
_MAGIC = (
    ("M4A/AAC (MP4)", lambda head: head[4:8] == b"ftyp"),
    ("WebM/Matroska", lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
    ("WMA (ASF)", lambda head: head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")),
    ("AMR", lambda head: head.startswith(b"#!AMR")),
)
_EXTENSIONS = {
    ".m4a": "M4A/AAC (MP4)",
    ".mp4": "M4A/AAC (MP4)",
    ".aac": "AAC",
    ".3gp": "3GP",
    ".webm": "WebM/Matroska",
    ".mka": "WebM/Matroska",
    ".mkv": "WebM/Matroska",
    ".wma": "WMA (ASF)",
    ".amr": "AMR",
}
HEAD_BYTES = 12  # enough for every test above


def container_of(head: bytes, path: Path | None = None) -> str | None:
    """The name of a format libsndfile does not read, from the first bytes of a recording (or
    its extension); None when it is not one of them."""
    for name, matches in _MAGIC:
        if matches(head):
            return name
    if path is not None:
        return _EXTENSIONS.get(path.suffix.lower())
    return None


def convert_hint(path: Path | None) -> str:
    """The ffmpeg command that turns the recording into WAV on stdin for ser-live."""
    source = shlex.quote(str(path)) if path is not None else "call.m4a"
    return f"convert with ffmpeg, e.g. ffmpeg -i {source} -f wav - | ser-live --input -"


def read_head(path: Path) -> bytes:
    """The first bytes of a file (b"" when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""


def unsupported_reason(path: Path | None, head: bytes) -> str | None:
    """``"M4A/AAC (MP4) is not a format libsndfile reads; convert with ffmpeg, e.g. …"`` for a
    recording in a format libsndfile does not read, else None."""
    name = container_of(head, path)
    if name is None:
        return None
    return f"{name} is not a format ser-live reads; {convert_hint(path)}"

"""Raw PCM (no header): the user says its rate, sample format and channel count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# --raw-format name -> (libsndfile subtype, endianness)
RAW_FORMATS: dict[str, tuple[str, str]] = {
    "s16le": ("PCM_16", "LITTLE"),
    "s24le": ("PCM_24", "LITTLE"),
    "s32le": ("PCM_32", "LITTLE"),
    "f32le": ("FLOAT", "LITTLE"),
    "u8": ("PCM_U8", "FILE"),
    "mulaw": ("ULAW", "FILE"),
    "alaw": ("ALAW", "FILE"),
}
BYTES_PER_SAMPLE = {"s16le": 2, "s24le": 3, "s32le": 4, "f32le": 4, "u8": 1, "mulaw": 1, "alaw": 1}


@dataclass(frozen=True)
class RawFormat:
    rate: int
    format: str = "s16le"
    channels: int = 1

    def soundfile_args(self) -> dict[str, Any]:
        subtype, endian = RAW_FORMATS[self.format]
        return {
            "format": "RAW",
            "subtype": subtype,
            "endian": endian,
            "samplerate": self.rate,
            "channels": self.channels,
        }

    def describe(self) -> str:
        return f"raw {self.format}, {self.rate} Hz, {self.channels} ch"

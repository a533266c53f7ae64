"""Binary frames to samples: little-endian 16-bit PCM, 32-bit float PCM, or G.711 μ-law.

μ-law is decoded through a 256-entry numpy table (no ``audioop``: it left the standard
library in Python 3.13). Frames hold whole samples of every channel, interleaved.
"""

from __future__ import annotations

import numpy as np

from streamer.serve.codes import ProtocolError

ENCODINGS = ("pcm_s16le", "pcm_f32le", "mulaw")
BYTES_PER_SAMPLE = {"pcm_s16le": 2, "pcm_f32le": 4, "mulaw": 1}


def _mulaw_table() -> np.ndarray:
    """G.711 μ-law byte -> int16 sample (the ITU-T decoder, as audioop.ulaw2lin had it)."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


MULAW_TO_INT16 = _mulaw_table()


def mulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples -> μ-law bytes (for tests, the client and Twilio replays)."""
    x = np.asarray(samples, dtype=np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def frame_bytes(encoding: str, channels: int) -> int:
    """Bytes of one sample of every channel."""
    return BYTES_PER_SAMPLE[encoding] * channels


def decode(frame: bytes, encoding: str, channels: int) -> np.ndarray:
    """A frame as an (n, channels) array the engine takes (int16 or float32); a
    :class:`ProtocolError` (non-fatal) for an empty frame or one of partial samples."""
    width = frame_bytes(encoding, channels)
    if not frame:
        raise ProtocolError("empty_frame", "an empty audio frame was ignored")
    if len(frame) % width:
        raise ProtocolError(
            "partial_samples",
            f"a frame of {len(frame)} bytes is not whole {encoding} samples of {channels} "
            f"channel(s) ({width} bytes each); it was ignored",
        )
    if encoding == "pcm_s16le":
        samples = np.frombuffer(frame, dtype="<i2").astype(np.int16)
    elif encoding == "pcm_f32le":
        samples = np.frombuffer(frame, dtype="<f4").astype(np.float32)
        if not np.all(np.isfinite(samples)):
            raise ProtocolError("bad_samples", "a frame held NaN or infinite samples; ignored")
        samples = np.clip(samples, -1.0, 1.0)
    else:
        samples = MULAW_TO_INT16[np.frombuffer(frame, dtype=np.uint8)]
    return samples.reshape(-1, channels)

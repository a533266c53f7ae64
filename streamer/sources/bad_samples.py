"""Samples no recorder makes: NaN, infinities, and values a thousand times full scale or more.

A float WAV can carry any bit pattern. One NaN reaching the resampler, the VAD's gain tracker or
a stream's normaliser used to poison their state for the rest of the stream (ser-live went deaf:
1 row instead of 7), and one 30 ms spike of 1e30 pinned the gain tracker 600 dB up for the rest
of a 10-minute call (8 rows instead of 113). Such samples are corrupt data, not sound: every
source replaces them with silence where they enter, counts them, and the run's summary says how
many there were.

Full scale is 1.0; float pipelines may run a few dB over it, so only values beyond
:data:`LIMIT` (+60 dBFS) are taken for corruption. A file whose every sample is that large (float
audio scaled like integers) is therefore heard as silence and the count says why.
"""

from __future__ import annotations

import numpy as np

from streamer.sources import SourceStats

LIMIT = 1000.0  # |sample| above this (+60 dBFS) is not audio


def replace_bad_samples(block: np.ndarray, stats: SourceStats) -> np.ndarray:
    """``block`` with non-finite samples and samples beyond ±:data:`LIMIT` set to 0, counted in
    ``stats.bad_samples``; the block itself when every sample is sound (the common case costs
    one comparison per sample)."""
    good = np.abs(block) <= LIMIT  # False for NaN too
    if good.all():
        return block
    stats.bad_samples += int(good.size - np.count_nonzero(good))
    return np.where(good, block, np.float32(0.0)).astype(np.float32, copy=False)

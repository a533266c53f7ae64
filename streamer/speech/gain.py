"""Gain staging ahead of the VAD: webrtcvad sees speech at one level whatever the microphone gain.

webrtcvad decides on absolute sub-band energies, so the same recording 6 dB quieter is cut into
different utterances (in a test only 28 of 93 kept their boundaries), and different cuts change
the features and the labels. This stage scales each VAD frame by ``target - L`` dB, where ``L``
follows the loudest recent frame: it jumps up at once and falls back by ``release_db_per_s``,
never below ``floor_dbfs``. Above the floor the tracker is homogeneous (a copy ``a * x`` of the
signal gets ``L + 20 log10 a`` everywhere), so every copy reaches the VAD as the same numbers and
is cut the same way. Only what the VAD sees is scaled: features still read the audio as captured.

Whatever comes in, the stage stays finite: no frame counts as louder than full scale
(:data:`CEILING_DBFS`; integer audio cannot be louder, and a corrupt spike of 1e30 would
otherwise hold the tracker 600 dB up for ten minutes), a NaN frame counts as that loudest frame
and comes out as silence, so one bad sample costs the VAD at most a release from full scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CEILING_DBFS = 0.0  # the loudest a frame counts as: full scale

@dataclass(frozen=True)
class GainSettings:
    target_dbfs: float  # level the loudest recent frame is brought to
    floor_dbfs: float  # the tracker never goes below this (limits the gain on silence)
    release_db_per_s: float  # how fast the tracker falls after the last loud frame


class VadGain:
    """Per-frame gains for the VAD input; stateful across chunks, ``reset()`` forgets."""

    def __init__(self, settings: GainSettings, frame_s: float) -> None:
        self.settings = settings
        self._step_db = settings.release_db_per_s * frame_s
        self.reset()

    def reset(self) -> None:
        self._level_db = self.settings.floor_dbfs

    def prime(self, level_dbfs: float) -> None:
        """Start from ``level_dbfs`` as if speech at that level had just been heard (training
        cuts a lone clip as it would be cut in the middle of a call, not at a stream's start)."""
        level = float(level_dbfs)
        level = min(level, CEILING_DBFS) if np.isfinite(level) else self.settings.floor_dbfs
        self._level_db = max(level, self.settings.floor_dbfs)

    @property
    def level_dbfs(self) -> float:
        """The tracked speech-peak level after the last frame."""
        return self._level_db

    def apply(self, frames: np.ndarray) -> np.ndarray:
        """``frames`` (n, frame_len) -> the same frames scaled to the target level."""
        n = len(frames)
        if n == 0:
            return frames
        power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1]
        with np.errstate(invalid="ignore", over="ignore"):
            frame_db = 10.0 * np.log10(power + 1e-20)
        frame_db = np.minimum(np.nan_to_num(frame_db, nan=CEILING_DBFS), CEILING_DBFS)
        # L_t = max(floor, frame_t, L_{t-1} - step), vectorised: shift by t * step, running max.
        ramp = np.arange(1, n + 1) * self._step_db
        running = np.maximum.accumulate(np.maximum(frame_db + ramp, self._level_db))
        level = np.maximum(running - ramp, self.settings.floor_dbfs)
        self._level_db = float(level[-1])
        gain = np.power(10.0, (self.settings.target_dbfs - level) / 20.0)
        with np.errstate(invalid="ignore", over="ignore"):
            staged = (frames * gain[:, None]).astype(np.float32)
        if not np.isfinite(staged).all():  # only from non-finite input: heard as silence
            staged[~np.isfinite(staged)] = 0.0
        return staged

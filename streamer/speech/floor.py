"""Foreground gate: a frame is the caller's speech only if it stands out from the background.

Other people talking behind the caller (babble) is speech to webrtcvad and to Silero alike, so in
a call mixed with babble every pause is "speech" and the utterances run together. What still
tells the caller from the room is level: the voice at the microphone is louder than the voices
behind it. This stage tracks the background floor of a stream, a low quantile (``QUANTILE``) of
the short-term levels (``SMOOTH_S`` mean power, in dB) of the last ``window_s`` (minimum
statistics, robust to a few dips), and lets a frame count as speech only while its short-term
level is at least ``margin_db`` above that floor. Once in, it stays in until the level falls
``HYSTERESIS_DB`` below the margin, and ``HANGOVER_S`` longer: the soft ends of words that the
VADs keep are kept, so on clean calls the cuts do not move. The floor is relative, never
absolute: a quiet speaker alone in a quiet room stands as far above their room tone as a loud
one; a constant gain moves level and floor together.

Causal (no look-ahead), per stream, stateful across chunks (``reset()`` forgets), and cheap: one
mean square per frame and a partial sort of ``window_s`` of levels. It reads the audio as
captured, before gain staging (a gain that moves within the window would move the levels it
compares). A non-finite frame counts as full scale: it never drags the floor down.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

QUANTILE = 0.1  # the floor: this quantile of the window's short-term levels
SMOOTH_S = 0.09  # short-term level: mean power of the frames of the last 90 ms
HYSTERESIS_DB = 3.0  # once in the foreground, a frame stays until margin - this
HANGOVER_S = 0.15  # ... and for this long after (the soft ends of words the VADs keep)
SILENCE_DBFS = -120.0  # the quietest a frame counts as (digital silence)


class ForegroundGate:
    """Per frame: is its short-term level at least ``margin_db`` above the background floor
    (the ``quantile`` of the short-term levels of the last ``window_s``)?"""

    def __init__(
        self,
        frame_s: float,
        margin_db: float,
        window_s: float,
        quantile: float = QUANTILE,
        smooth_s: float = SMOOTH_S,
        hysteresis_db: float = HYSTERESIS_DB,
        hangover_s: float = HANGOVER_S,
    ) -> None:
        self.margin_db = float(margin_db)
        self.hangover_frames = round(hangover_s / frame_s)
        self.hysteresis_db = float(hysteresis_db)
        self.smooth_frames = max(1, round(smooth_s / frame_s))
        self.window_frames = max(1, round(window_s / frame_s))
        self._rank = min(self.window_frames - 1, int(quantile * self.window_frames))
        self.reset()

    def reset(self) -> None:
        self._powers = np.zeros(0)  # mean squares of the last smooth_frames - 1 frames
        self._levels = np.zeros(0)  # short-term levels (dB) of the last window_frames - 1
        self._on = False
        self._left = 0  # frames of hang-over still to give after the level fell
        self.floor_db = SILENCE_DBFS  # the floor after the last frame

    def levels(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Short-term level and background floor (dB) of each frame; advances the state.
        A stream starts as if its first frame had lasted (its background until heard better)."""
        power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1]
        power = np.clip(np.where(np.isfinite(power), power, 1.0), 10 ** (SILENCE_DBFS / 10), 1.0)
        if not len(self._powers) and not len(self._levels):
            self._powers = np.full(self.smooth_frames - 1, power[0])
            self._levels = np.full(self.window_frames - 1, 10.0 * np.log10(power[0]))
        powers = np.concatenate([self._powers, power])
        total = np.concatenate([[0.0], np.cumsum(powers)])
        k = self.smooth_frames
        level = 10.0 * np.log10(np.maximum((total[k:] - total[:-k]) / k, 1e-30))
        history = np.concatenate([self._levels, level])
        size = history.itemsize  # one row of window_frames levels per frame (a view)
        windows = as_strided(history, (len(level), self.window_frames), (size, size))
        floor = np.partition(windows, self._rank, axis=1)[:, self._rank]
        self._powers = powers[len(powers) - (k - 1) :]
        self._levels = history[len(history) - (self.window_frames - 1) :]
        self.floor_db = float(floor[-1])
        return level, floor

    def judge(self, frames: np.ndarray) -> np.ndarray:
        """``frames`` (n, frame_len) float32 -> (n,) bool: foreground or not."""
        n = len(frames)
        if n == 0:
            return np.zeros(0, dtype=bool)
        level, floor = self.levels(frames)
        above = (level - floor).tolist()
        on_at, off_at = self.margin_db, self.margin_db - self.hysteresis_db
        decisions = np.empty(n, dtype=bool)
        on, left, hangover = self._on, self._left, self.hangover_frames
        for i, height in enumerate(above):
            on = height >= (off_at if on else on_at)
            left = hangover if on else max(0, left - 1)
            decisions[i] = on or left > 0
        self._on, self._left = on, left
        return decisions

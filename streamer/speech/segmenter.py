"""Cuts a stream of 16 kHz samples into utterances using per-frame VAD decisions.

Rules (all lengths from the settings):
- an utterance opens after ``onset_ms`` of consecutive speech frames and keeps ``pre_roll_ms``
  of the audio before that run, so soft first syllables are not lost;
- it closes after ``hangover_ms`` of non-speech; its end is the end of the last speech frame;
- utterances with less than ``min_utterance_s`` from onset to the last speech frame are dropped
  (the pre-roll does not count);
- speech that goes on towards ``max_utterance_s`` is cut so that a monologue still moves the
  timeline, and a new utterance continues at once. The cut prefers a pause: in the last second
  before the limit (a quarter of it for limits under 4 s), the first frame the VAD calls
  non-speech ends the utterance there (at its last speech frame); with no such frame by the
  limit, it is cut at the quietest frame of that window rather than mid-word. The row still
  comes no later than at the limit; an utterance never exceeds it.
- with ``partial_every_s`` > 0, every that many seconds of speech a provisional utterance
  (``final=False``: the audio from its start to its newest speech frame) is handed out as well;
  it is emitted on a speech frame, so never in the hang-over just before the final one.
Chunks of any size are accepted, with the same results; the remainder that does not fill a VAD
frame is carried over.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from streamer.results import Utterance
from streamer.settings import SegmenterSettings
from streamer.speech.vad import FrameVad

PAUSE_SEARCH_MAX_S = 1.0  # the window before max_utterance_s in which a cut looks for a pause


def _energy(frame: np.ndarray) -> float:
    """Sum of squares of a frame (what the cut near max_utterance_s compares)."""
    return float(np.dot(frame, frame))


class Segmenter:
    def __init__(
        self, vad: FrameVad, settings: SegmenterSettings, partial_every_s: float = 0.0
    ) -> None:
        """``partial_every_s``: provisional utterances this often (0 = none). The settings'
        own ``partial_every_s`` is what ser-live asks for when something shows them; other
        users of the segmenter (training, evaluation) want finals only."""
        self.vad = vad
        self.sample_rate_hz = vad.sample_rate_hz
        self.frame_len = vad.frame_len
        frame_ms = 1000 * self.frame_len / self.sample_rate_hz
        self.onset_frames = max(1, round(settings.onset_ms / frame_ms))
        self.pre_roll_frames = round(settings.pre_roll_ms / frame_ms)
        self.hangover_frames = max(1, round(settings.hangover_ms / frame_ms))
        # Whole frames only: an utterance never exceeds max_utterance_s.
        self.min_speech_frames = math.ceil(settings.min_utterance_s * 1000 / frame_ms - 1e-9)
        self.max_frames = max(2, math.floor(settings.max_utterance_s * 1000 / frame_ms + 1e-9))
        self.pause_frames = max(
            1, min(self.max_frames // 4, round(PAUSE_SEARCH_MAX_S * 1000 / frame_ms))
        )
        self.partial_frames = (
            max(1, round(partial_every_s * 1000 / frame_ms)) if partial_every_s > 0 else 0
        )
        # Skip provisional utterances while set (a server that is behind); finals do not change.
        self.partials_paused = False
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self._carry = np.zeros(0, dtype=np.float32)
        self._frame_index = 0  # index of the next frame to be decided
        # frames before an utterance opens: its pre-roll and onset
        self._history: deque[np.ndarray] = deque(maxlen=self.pre_roll_frames + self.onset_frames)
        self._voiced_run = 0
        self._in_speech = False
        self._frames: list[np.ndarray] = []
        self._energies: list[float] = []  # sum of squares of each frame in _frames
        self._start_frame = 0
        self._last_voiced = 0  # frames in the current utterance up to its last speech frame
        self._speech_from = 0  # frames of pre-roll at the head of the current utterance
        self._silence_run = 0
        self._next_partial = 0  # speech frames after which the next provisional result is due

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def pending_s(self) -> float:
        """Length of the utterance in progress (0 outside speech)."""
        return len(self._frames) * self.frame_len / self.sample_rate_hz if self._in_speech else 0.0

    @property
    def position_s(self) -> float:
        """Stream time of everything decided so far."""
        return self._frame_index * self.frame_len / self.sample_rate_hz

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        """Add samples; return the utterances that this chunk completed (and, with partials on,
        the provisional ones due in it), in stream order."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if len(self._carry):
            samples = np.concatenate([self._carry, samples])
        n_frames = len(samples) // self.frame_len
        used = n_frames * self.frame_len
        self._carry = samples[used:].copy()
        if n_frames == 0:
            return []
        frames = samples[:used].reshape(n_frames, self.frame_len)
        decisions = self.vad.decide(frames)
        done: list[Utterance] = []
        for frame, speech in zip(frames, decisions.tolist(), strict=True):
            utterance = self._step(frame, speech)
            if utterance is not None:
                done.append(utterance)
        return done

    def flush(self) -> list[Utterance]:
        """End of stream: close the utterance in progress (if long enough)."""
        done = []
        if self._in_speech:
            utterance = self._close()
            if utterance is not None:
                done.append(utterance)
        self._carry = np.zeros(0, dtype=np.float32)
        return done

    def close_utterance(self) -> list[Utterance]:
        """Close the utterance in progress now (if long enough), as its hang-over would, and go
        on: unlike :meth:`flush`, the samples that do not fill a frame yet are kept, so the
        stream's timeline is not shifted (a client's "flush", a push-to-talk release)."""
        if not self._in_speech:
            return []
        utterance = self._close()
        return [utterance] if utterance is not None else []

    def _step(self, frame: np.ndarray, speech: bool) -> Utterance | None:
        index = self._frame_index
        self._frame_index += 1
        if not self._in_speech:
            self._history.append(frame)
            self._voiced_run = self._voiced_run + 1 if speech else 0
            if self._voiced_run >= self.onset_frames:
                self._open(index)
            return None
        self._frames.append(frame)
        self._energies.append(_energy(frame))
        if speech:
            self._last_voiced = len(self._frames)
            self._silence_run = 0
        else:
            self._silence_run += 1
        if self._silence_run >= self.hangover_frames:
            return self._close()
        n = len(self._frames)
        if n >= self.max_frames - self.pause_frames and not speech and self._pause_ends_speech():
            return self._split(self._last_voiced, speech_from=n - self._last_voiced)
        if n >= self.max_frames:
            window = self._energies[n - self.pause_frames :]
            quietest = n - self.pause_frames + int(np.argmin(window))
            return self._split(max(1, quietest), speech_from=0)
        if speech and self.partial_frames and n - self._speech_from >= self._next_partial:
            self._next_partial += self.partial_frames
            if not self.partials_paused:  # paused: this one is skipped, the cadence kept
                return self._make(self._frames, self._start_frame, split=False, final=False)
        return None

    def _open(self, index: int) -> None:
        self._in_speech = True
        self._frames = list(self._history)
        self._energies = [_energy(frame) for frame in self._frames]
        self._start_frame = index + 1 - len(self._frames)
        self._last_voiced = len(self._frames)
        self._speech_from = len(self._frames) - self._voiced_run
        self._silence_run = 0
        self._history.clear()
        self._voiced_run = 0
        self._next_partial = max(self.partial_frames, self.min_speech_frames)

    def _pause_ends_speech(self) -> bool:
        """A pause here may end the utterance: it holds enough speech to be kept on its own."""
        return self._last_voiced - self._speech_from >= self.min_speech_frames

    def _make(
        self, frames: list[np.ndarray], start_frame: int, split: bool, final: bool = True
    ) -> Utterance:
        to_s = self.frame_len / self.sample_rate_hz
        if not final:  # the utterance so far, up to its newest speech frame
            frames = frames[: self._last_voiced]
        return Utterance(
            start_s=start_frame * to_s,
            end_s=(start_frame + len(frames)) * to_s,
            samples=np.concatenate(frames),
            split=split,
            closed_s=self.position_s,
            final=final,
        )

    def _close(self) -> Utterance | None:
        kept = self._frames[: self._last_voiced]
        tail = self._frames[self._last_voiced :]
        speech_frames = len(kept) - self._speech_from
        self._in_speech = False
        self._frames, self._energies = [], []
        self._silence_run = 0
        # The trailing silence becomes the pre-roll history of the next utterance.
        self._history.extend(tail)
        # The minimum applies to the speech itself, not to the pre-roll in front of it.
        if speech_frames < self.min_speech_frames:
            return None
        return self._make(kept, self._start_frame, split=False)

    def _split(self, cut: int, speech_from: int) -> Utterance:
        """Hand out the first ``cut`` frames; the rest continue as the next utterance, whose
        first ``speech_from`` frames are the pause (they count as its pre-roll)."""
        utterance = self._make(self._frames[:cut], self._start_frame, split=True)
        self._start_frame += cut
        self._frames = self._frames[cut:]
        self._energies = self._energies[cut:]
        self._last_voiced = max(0, self._last_voiced - cut)
        self._speech_from = speech_from
        self._next_partial = max(self.partial_frames, self.min_speech_frames)
        return utterance

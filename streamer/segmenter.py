"""Cuts a stream of 16 kHz samples into utterances using per-frame VAD decisions.

Rules (all lengths from the settings):
- an utterance opens after ``onset_ms`` of consecutive speech frames and keeps ``pre_roll_ms``
  of the audio before that run, so soft first syllables are not lost;
- it closes after ``hangover_ms`` of non-speech; its end is the end of the last speech frame;
- utterances with less than ``min_utterance_s`` from onset to the last speech frame are dropped
  (the pre-roll does not count);
- speech that goes on past ``max_utterance_s`` is cut there and a new utterance continues at
  once, so a monologue still moves the timeline.
Chunks of any size are accepted; the remainder that does not fill a VAD frame is carried over.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from streamer.results import Utterance
from streamer.settings import SegmenterSettings
from streamer.vad import FrameVad


class Segmenter:
    def __init__(self, vad: FrameVad, settings: SegmenterSettings) -> None:
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
        self.reset()

    def reset(self) -> None:
        self.vad.reset()
        self._carry = np.zeros(0, dtype=np.float32)
        self._frame_index = 0  # index of the next frame to be decided
        self._history: deque[np.ndarray] = deque(maxlen=self.pre_roll_frames + self.onset_frames)
        self._voiced_run = 0
        self._in_speech = False
        self._frames: list[np.ndarray] = []
        self._start_frame = 0
        self._last_voiced = 0  # frames in the current utterance up to its last speech frame
        self._speech_from = 0  # frames of pre-roll at the head of the current utterance
        self._silence_run = 0
        self.last_frame_speech = False
        self._frames_tail: list[np.ndarray] = []

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
        """Add samples; return the utterances that this chunk completed."""
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
        for frame, speech in zip(frames, decisions, strict=True):
            utterance = self._step(frame, bool(speech))
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

    def _step(self, frame: np.ndarray, speech: bool) -> Utterance | None:
        index = self._frame_index
        self._frame_index += 1
        self.last_frame_speech = speech
        if not self._in_speech:
            self._history.append(frame)
            self._voiced_run = self._voiced_run + 1 if speech else 0
            if self._voiced_run >= self.onset_frames:
                self._in_speech = True
                self._frames = list(self._history)
                self._start_frame = index + 1 - len(self._frames)
                self._last_voiced = len(self._frames)
                self._speech_from = len(self._frames) - self._voiced_run
                self._silence_run = 0
                self._history.clear()
                self._voiced_run = 0
            return None
        self._frames.append(frame)
        if speech:
            self._last_voiced = len(self._frames)
            self._silence_run = 0
        else:
            self._silence_run += 1
        if self._silence_run >= self.hangover_frames:
            utterance = self._close()
            # The trailing silence becomes the pre-roll history of the next utterance.
            for tail in self._frames_tail:
                self._history.append(tail)
            return utterance
        if len(self._frames) >= self.max_frames:
            return self._split()
        return None

    def _make(self, frames: list[np.ndarray], start_frame: int, split: bool) -> Utterance:
        to_s = self.frame_len / self.sample_rate_hz
        return Utterance(
            start_s=start_frame * to_s,
            end_s=(start_frame + len(frames)) * to_s,
            samples=np.concatenate(frames),
            split=split,
            closed_s=self.position_s,
        )

    def _close(self) -> Utterance | None:
        kept = self._frames[: self._last_voiced]
        self._frames_tail = self._frames[self._last_voiced :]
        self._in_speech = False
        self._frames = []
        self._silence_run = 0
        # The minimum applies to the speech itself, not to the pre-roll in front of it.
        if len(kept) - self._speech_from < self.min_speech_frames:
            return None
        return self._make(kept, self._start_frame, split=False)

    def _split(self) -> Utterance:
        utterance = self._make(self._frames, self._start_frame, split=True)
        self._start_frame += len(self._frames)
        self._frames = []
        self._last_voiced = 0
        self._speech_from = 0
        return utterance

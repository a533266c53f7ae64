"""Speech/non-speech decisions per frame: webrtcvad, with an optional second opinion (Silero VAD)
that must agree, both hearing the gain-staged audio, and an optional foreground gate (the frame
must stand out from the stream's background: babble behind the caller is speech to both VADs)."""

from __future__ import annotations

import numpy as np
import webrtcvad

from streamer.errors import ConfigError
from streamer.settings import VadSettings
from streamer.speech import silero
from streamer.speech.floor import ForegroundGate
from streamer.speech.gain import GainSettings, VadGain
from streamer.speech.silero import SileroOpinion


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16, clipping instead of wrapping around."""
    return np.clip(np.rint(samples * 32768.0), -32768, 32767).astype(np.int16)


class FrameVad:
    """Classifies consecutive frames of ``frame_ms`` at ``sample_rate_hz`` as speech or not."""

    def __init__(
        self,
        sample_rate_hz: int,
        frame_ms: int,
        aggressiveness: int,
        gain: GainSettings | None = None,
        second_opinion: SileroOpinion | None = None,
        foreground: ForegroundGate | None = None,
    ) -> None:
        if frame_ms not in (10, 20, 30):
            raise ValueError("webrtcvad frames are 10, 20 or 30 ms")
        self.sample_rate_hz = sample_rate_hz
        self.frame_len = sample_rate_hz * frame_ms // 1000
        self.aggressiveness = aggressiveness
        # Gain staging (see streamer/gain.py) makes the decisions independent of input level.
        self.gain = VadGain(gain, frame_ms / 1000) if gain is not None else None
        self._vad = webrtcvad.Vad(aggressiveness)
        # webrtcvad calls a noise floor that fills the pauses "speech"; Silero must agree.
        self.second_opinion = second_opinion
        # Other voices behind the caller are speech to both VADs; the caller stands out by level.
        self.foreground = foreground

    def decide(self, frames: np.ndarray) -> np.ndarray:
        """``frames``: (n, frame_len) float32 -> (n,) bool, one webrtcvad call per frame."""
        n = len(frames)
        staged = self.gain.apply(frames) if self.gain is not None else frames
        # One conversion for the whole chunk; frames are then zero-copy slices of it.
        data = memoryview(to_pcm16(staged).tobytes())
        step = 2 * self.frame_len
        is_speech, rate = self._vad.is_speech, self.sample_rate_hz
        decisions = np.fromiter(
            (is_speech(data[i : i + step], rate) for i in range(0, n * step, step)),
            dtype=bool,
            count=n,
        )
        if self.second_opinion is not None and n:
            decisions &= self.second_opinion.judge(staged)
        if self.foreground is not None and n:  # the audio as captured: levels vs their floor
            decisions &= self.foreground.judge(frames)
        return decisions

    def reset(self) -> None:
        if self.gain is not None:
            self.gain.reset()
        # webrtcvad keeps adaptive noise estimates; a fresh instance forgets them.
        self._vad = webrtcvad.Vad(self.aggressiveness)
        if self.second_opinion is not None:
            self.second_opinion.reset()
        if self.foreground is not None:
            self.foreground.reset()


def vad_from_settings(sample_rate_hz: int, settings: VadSettings) -> FrameVad:
    """The VAD ser-live, training and the benchmarks run, built from ``[vad]`` settings."""
    gain = None
    if settings.gain_staging:
        gain = GainSettings(
            settings.gain_target_dbfs, settings.gain_floor_dbfs, settings.gain_release_db_per_s
        )
    second = None
    if settings.second_opinion == "silero":
        if sample_rate_hz != silero.SAMPLE_RATE_HZ:
            raise ConfigError(
                f"vad.second_opinion = \"silero\" needs {silero.SAMPLE_RATE_HZ} Hz audio (got "
                f"{sample_rate_hz} Hz); set it to \"none\" or audio.sample_rate_hz to 16000"
            )
        frame_len = sample_rate_hz * settings.frame_ms // 1000
        second = silero.SileroOpinion(
            frame_len,
            settings.silero_on_probability,
            settings.silero_off_probability,
            settings.silero_joins_after_ms,
            settings.silero_hangover_ms,
        )
    foreground = None
    if settings.foreground_margin_db > 0:
        foreground = ForegroundGate(
            settings.frame_ms / 1000, settings.foreground_margin_db, settings.background_window_s
        )
    return FrameVad(
        sample_rate_hz, settings.frame_ms, settings.aggressiveness, gain, second, foreground
    )

"""Silero VAD (MIT, Silero Team): a speech probability for every 32 ms of 16 kHz audio.

webrtcvad calls noise "speech" when it changes level (a noise floor that fills the pauses
between words, or room tone that starts and stops with each recording): in test calls up to
44 % of the words separated by 1.5-s pauses at a -50 dBFS floor shared one utterance. Silero's
small recurrent network was trained on speech in noise and tells the two apart; as webrtcvad's
second opinion (:mod:`streamer.speech.vad`) it takes those words apart again (bench/pauses.py).

The model is the ``silero_vad_16k_sequence.onnx`` file of the ``silero-vad`` 6.2.3 wheel on PyPI,
shipped as package data with its licence (``data/LICENSE-silero-vad.txt``) and checked by
sha256 on load. The wheel itself is not a dependency: it requires PyTorch. This "sequence"
export runs many 512-sample windows in one onnxruntime call (each with the 64 samples before it
as context, the LSTM state carried between calls) and gives the same probabilities as the
one-window streaming export, so a stream costs one call per chunk however it is chunked.
"""

from __future__ import annotations

import hashlib
import math
from importlib import resources
from pathlib import Path

import numpy as np

from streamer.errors import ModelError

SAMPLE_RATE_HZ = 16000
WINDOW = 512  # samples per probability (32 ms)
JOIN_PROBABILITY = 0.9  # how sure Silero must be of speech before its opinion counts (see below)
CONTEXT = 64  # samples of the previous window the model sees in front of each window
MODEL_FILE = "silero_vad_16k_sequence.onnx"
MODEL_SHA256 = "9ccdacc4719d8aa7e45a77536bfabec45a03ba1f2fad5e241ab4060b24238a85"
_STATE_SHAPE = (1, 1, 128)


def model_path() -> Path:
    """The shipped model file (in the checkout or the installed wheel)."""
    return Path(str(resources.files("streamer.speech").joinpath("data", MODEL_FILE)))


def _open_session(path: Path):  # noqa: ANN202 (onnxruntime.InferenceSession)
    import onnxruntime as ort

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"Silero VAD model missing: {path} ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256:
        raise ModelError(f"Silero VAD model {path} is damaged (sha256 {digest[:12]}...)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one thread per stream: streams and workers run side by side
    options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


_SESSIONS: dict[Path, object] = {}


def shared_session(path: Path | None = None):  # noqa: ANN201
    """One onnxruntime session per model file and process (a session holds no stream state:
    every stream passes its own LSTM state)."""
    path = path or model_path()
    if path not in _SESSIONS:
        _SESSIONS[path] = _open_session(path)
    return _SESSIONS[path]


class SileroVad:
    """Streaming speech probabilities: ``feed`` any number of samples, get one probability per
    512-sample window completed by them; samples left over wait for the next call."""

    def __init__(self, path: Path | None = None) -> None:
        self._session = shared_session(path)
        self.reset()

    def reset(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self.windows_done = 0  # windows completed since the start (or reset)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Speech probabilities (0..1) of the windows these samples complete, in order."""
        samples = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        n = len(samples) // WINDOW
        self._pending = samples[n * WINDOW :].copy()
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = samples[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.empty((n, CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -CONTEXT:]
        self._context = windows[-1, -CONTEXT:].copy()
        probabilities, self._h, self._c = self._session.run(
            ["speech_probs", "hn", "cn"],
            {"input": np.concatenate([contexts, windows], axis=1), "h": self._h, "c": self._c},
        )
        self.windows_done += n
        return np.asarray(probabilities, dtype=np.float32).reshape(-1)


class SileroOpinion:
    """Silero's yes/no for each VAD frame, the second opinion :class:`~streamer.speech.vad.
    FrameVad` asks: a frame is speech while the probability of the latest 32 ms window it
    completed has risen to ``on_probability`` and not yet fallen below ``off_probability``
    (hysteresis, as Silero's own iterator does).

    Until Silero has been sure of speech (probability >= JOIN_PROBABILITY) for ``join_after_ms``
    of a stream without a break, the opinion abstains (every frame "yes"): a signal it never
    takes for speech (a tone, the buzz the tests synthesise) is then cut by webrtcvad alone, as
    before, rather than vanishing. Measured (``join_after_ms`` = 320): the synthetic buzz of
    tests/helpers/synth.py reaches 0.9 for at most 7 windows (224 ms) in a row, at its onset,
    over 480 variants; single espeak-ng words reach it for 9 to 22, corpus clips for 25 or more
    (all but 1 %), so a stream of real words has Silero's opinion from its first word or two.
    From then on it takes part in every decision of the stream until ``reset()``.
    """

    def __init__(
        self,
        frame_len: int,
        on_probability: float,
        off_probability: float,
        join_after_ms: float,
        hangover_ms: float = 0.0,
        path: Path | None = None,
    ) -> None:
        self.frame_len = frame_len
        self.on_probability = on_probability
        self.off_probability = off_probability
        self.join_after_windows = max(1, math.ceil(join_after_ms / 1000 * SAMPLE_RATE_HZ / WINDOW))
        self.hangover_windows = math.ceil(hangover_ms / 1000 * SAMPLE_RATE_HZ / WINDOW - 1e-9)
        self.model = SileroVad(path)
        self.reset()

    def reset(self) -> None:
        self.model.reset()
        self._samples_done = 0  # samples of the frames judged so far
        self._speech = False
        self._sure_windows = 0  # windows in a row at or above JOIN_PROBABILITY
        self._quiet_windows = 0  # windows in a row below off_probability
        self.heard_speech = False

    def judge(self, frames: np.ndarray) -> np.ndarray:
        """``frames`` (n, frame_len) float32 -> (n,) bool."""
        n = len(frames)
        first_window = self.model.windows_done
        probabilities = self.model.feed(frames.reshape(-1)).tolist()
        # The window each frame waits for: the latest one complete by the frame's last sample
        # (a 30 ms frame completes at most one 32 ms window).
        ends = self._samples_done + self.frame_len * np.arange(1, n + 1)
        latest = (ends // WINDOW - 1 - first_window).tolist()  # this call's windows; <0: older
        self._samples_done += n * self.frame_len
        decisions = np.ones(n, dtype=bool)
        seen = -1
        for i, index in enumerate(latest):
            if index > seen:
                seen = index
                self._hear(probabilities[index])
            decisions[i] = self._speech or not self.heard_speech
        return decisions

    def _hear(self, probability: float) -> None:
        """One new window's probability: the hysteresis, and whether the opinion joins yet."""
        if probability >= JOIN_PROBABILITY:
            self._sure_windows += 1
            self.heard_speech |= self._sure_windows >= self.join_after_windows
        else:
            self._sure_windows = 0
        self._quiet_windows = self._quiet_windows + 1 if probability < self.off_probability else 0
        if probability >= self.on_probability:
            self._speech = True
        elif self._quiet_windows > self.hangover_windows:
            self._speech = False

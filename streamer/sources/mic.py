"""Live microphone input through PortAudio (sounddevice).

PortAudio's callback runs on its own thread; it copies each block into a preallocated ring
buffer and returns (no allocation beyond a view, no lock held, no waiting). The consumer (the
pipeline thread) drains the buffer, resamples when the device could not be opened at the model
rate, and yields blocks. What can go wrong in the real world, and what happens:

- wrong or unknown ``--device``: :class:`~streamer.sources.InputError` (exit 2) naming the choices;
- no input device, PortAudio missing: :class:`~streamer.sources.SourceError` (exit 1) naming the
  package to install;
- "Invalid sample rate": the device is opened at its own default rate and resampled here;
- the consumer falls behind: the ring drops the newest audio and counts it (``stats.overruns``,
  ``stats.dropped_s``); PortAudio's own overflow flags are counted too (``device_overflows``);
- the device is unplugged / the audio server dies: PortAudio ends the stream, or no audio arrives
  for ``stall_timeout_s``; :meth:`MicSource.blocks` then raises a one-line ``SourceError`` after
  handing over every sample it still had.

PortAudio and ALSA print their own diagnostics straight onto file descriptor 2 (``Expression
'...' failed in pa_linux_alsa.c``, ``ALSA lib pcm.c: ...``); ser-live's entry point keeps them off
the terminal (:mod:`streamer.sources.native_stderr`), this module does not touch fd 2.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event
from typing import Any

import numpy as np

from streamer.settings import AudioSettings
from streamer.sources import InputError, SourceError, SourceStats
from streamer.sources.channel_choice import ChannelMode, describe_channels, streams_for
from streamer.sources.ringbuffer import RingBuffer

# Without a microphone ser-live still works on recordings: every "no input" message says so.
REPLAY_HINT = "without a microphone, ser-live --input FILE replays a recording"
PORTAUDIO_HINT = (
    "PortAudio library not found; install it (Debian/Ubuntu: sudo apt-get install libportaudio2,"
    f" Fedora: sudo dnf install portaudio, macOS: brew install portaudio); {REPLAY_HINT}"
)
POLL_S = 0.05  # the consumer re-checks stop/stall this often when no audio arrives


def import_sounddevice() -> Any:
    """The sounddevice module; PortAudio initialises (and probes ALSA) on first import."""
    try:
        import sounddevice
    except OSError:  # sounddevice raises OSError when libportaudio is missing
        raise SourceError(PORTAUDIO_HINT) from None
    except ImportError:
        raise SourceError(
            "the sounddevice package is missing; reinstall ser-live (pip install -e .)"
        ) from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: int
    host_api: str
    is_default: bool


def list_input_devices(sd: Any | None = None) -> list[InputDevice]:
    """Every device PortAudio can record from, with its index, channels and default rate."""
    sd = sd or import_sounddevice()
    try:
        devices = sd.query_devices()
        host_apis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise SourceError(f"cannot query audio devices: {exc}") from None
    found = []
    for index, device in enumerate(devices):
        if device["max_input_channels"] > 0:
            found.append(
                InputDevice(
                    index=index,
                    name=device["name"],
                    channels=device["max_input_channels"],
                    default_rate=int(device["default_samplerate"]),
                    host_api=host_apis[device["hostapi"]]["name"],
                    is_default=index == default_in,
                )
            )
    return found


def resolve_device(spec: str | int | None, sd: Any | None = None) -> InputDevice:
    """An index, or a case-insensitive part of a name; ``None`` means the system default.

    An exact name wins over partial matches; several partial matches are an error that lists
    them, so ``--device usb`` never picks one of two USB microphones at random.
    """
    devices = list_input_devices(sd)
    if not devices:
        raise SourceError(
            "no audio input device found (is a microphone connected and the audio server running?"
            f" see ser-live --list-devices); {REPLAY_HINT}"
        )
    if spec is None or str(spec).strip() == "":
        for device in devices:
            if device.is_default:
                return device
        return devices[0]
    text = str(spec).strip()
    if text.isdigit():
        for device in devices:
            if device.index == int(text):
                return device
        raise InputError(f"no input device with index {text} (see ser-live --list-devices)")
    matches = [d for d in devices if text.lower() in d.name.lower()]
    exact = [d for d in matches if d.name.lower() == text.lower()]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InputError(f"no input device matches {text!r} (see ser-live --list-devices)")
    names = ", ".join(f"{d.index}: {d.name}" for d in matches)
    raise InputError(f"{text!r} matches several input devices ({names}); give an index")


def choose_format(
    sd: Any, device: InputDevice, wanted_hz: int, mode: ChannelMode = "mix"
) -> tuple[int, int]:
    """(rate, channels) to open ``device`` with.

    The model rate if the device takes it, otherwise its default rate (the consumer resamples):
    the cure for PortAudio's "Invalid sample rate". For "mix": mono if the device allows it,
    otherwise its first two channels, of which the first is used; for channel N: N channels
    (the last is used); for "each": all the device's channels. A device with fewer channels
    than asked for is a one-line InputError.
    """
    what = f"input device {device.index}: {device.name}"
    if mode == "mix":
        options: tuple[int, ...] = (1, min(2, device.channels))
    else:
        streams_for(mode, device.channels, what)  # raises when the device lacks it
        options = (device.channels,) if mode == "each" else (int(mode), device.channels)
    last_error = ""
    for channels in dict.fromkeys(options):
        for rate in dict.fromkeys((wanted_hz, device.default_rate)):
            try:
                sd.check_input_settings(
                    device=device.index, channels=channels, samplerate=rate, dtype="float32"
                )
                return rate, channels
            except (sd.PortAudioError, ValueError) as exc:
                last_error = str(exc)
    raise SourceError(
        f"input device {device.index}: {device.name} cannot record at {wanted_hz} Hz nor at its "
        f"default {device.default_rate} Hz ({last_error})"
    )


class MicSource:
    """A PortAudio input stream feeding the pipeline through a ring buffer.

    From ``audio`` (the [audio] settings): PortAudio calls back every ``mic_block_ms``; blocks
    of at least ``block_ms`` go downstream as soon as they are complete; ``ring_buffer_s`` is how
    much audio may pile up while the consumer is busy before the newest is dropped;
    ``stall_timeout_s`` how long the device may deliver nothing before the run ends (an
    unplugged or stuck device).
    """

    def __init__(
        self, device: str | int | None, audio: AudioSettings, channels: ChannelMode = "mix"
    ) -> None:
        """``channels``: "mix" (today's single channel: the first), a 1-based channel number
        (1-D blocks of that channel) or "each" (2-D ``(frames, channels)`` blocks of every
        channel the device has), at the device's rate (``rate_hz``)."""
        self._sd = import_sounddevice()
        self.channel_mode = channels
        self.audio = audio
        self.model_rate_hz = audio.sample_rate_hz
        self.stall_timeout_s = audio.stall_timeout_s
        self.stats = SourceStats()
        self._device_overflows = 0  # written by the callback only
        self._finished = threading.Event()
        self._stream: Any = None
        try:
            self.device = resolve_device(device, self._sd)
            self._configure(
                *choose_format(self._sd, self.device, self.model_rate_hz, self.channel_mode)
            )
            # Opened now, so that the description printed and shown is what is really in use.
            self.start()
        except BaseException:
            self.close()
            raise

    def _configure(self, rate: int, channels: int) -> None:
        self.device_rate, self.device_channels = rate, channels
        self.rate_hz = rate
        # A short PortAudio block hears speech end sooner; the consumer still wakes only once a
        # downstream block is complete.
        self.period_frames = max(1, rate * self.audio.mic_block_ms // 1000)
        self.block_frames = max(1, rate * self.audio.block_ms // 1000)
        capacity = max(2 * self.block_frames, int(self.audio.ring_buffer_s * rate))
        each = self.channel_mode == "each"
        self.channels = channels if each else 1  # what the blocks carry
        self.streams = self.channels
        # The column the callback copies (None: all of them, for "each").
        mode = self.channel_mode
        self._column = None if each else (int(mode) - 1 if mode != "mix" else 0)
        self.ring = RingBuffer(
            capacity, wake_at=self.block_frames, channels=channels if each else 0
        )
        resampled = "" if rate == self.model_rate_hz else f" -> {self.model_rate_hz} Hz"
        if mode == "mix":
            channel = "" if channels == 1 else f", channel 1 of {channels}"
        else:
            channel = f", {describe_channels(mode, channels)}"
        self.description = (
            f"microphone {self.device.index}: {self.device.name} @ {rate} Hz{resampled}{channel}"
        )

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: count PortAudio's overflow flag, copy into the preallocated ring
        # (a full ring drops and counts, never waits), return. Nothing else belongs here.
        if status.input_overflow:
            self._device_overflows += 1
        self.ring.write(indata if self._column is None else indata[:, self._column])

    def _on_finished(self) -> None:
        self._finished.set()

    def start(self) -> None:
        """Open and start the stream (once). Some devices pass PortAudio's format check and
        still refuse the model rate when opened ("Invalid sample rate"): then their own
        default rate is used."""
        if self._stream is not None:
            return
        try:
            self._open()
        except (self._sd.PortAudioError, ValueError) as exc:
            first_error = exc
            if self.device_rate == self.device.default_rate:
                raise SourceError(f"cannot open {self.description}: {exc}") from None
        else:
            return
        self._configure(self.device.default_rate, self.device_channels)
        self._finished.clear()
        try:
            self._open()
        except (self._sd.PortAudioError, ValueError) as exc:
            raise SourceError(
                f"cannot open {self.description}: {exc} (at {self.model_rate_hz} Hz: "
                f"{first_error})"
            ) from None

    def _open(self) -> None:
        stream = self._sd.InputStream(
            device=self.device.index,
            channels=self.device_channels,
            samplerate=self.device_rate,
            dtype="float32",
            blocksize=self.period_frames,
            callback=self._callback,
            finished_callback=self._on_finished,
        )
        try:
            stream.start()
        except BaseException:
            with contextlib.suppress(Exception):
                stream.close()
            raise
        self._stream = stream

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        """Blocks at the device's rate as they complete - whole multiples of ``block_ms``, all
        that is waiting - until ``stop``; raises ``SourceError`` when the device goes away,
        after yielding everything it delivered."""
        self.start()
        each = self._column is None
        scratch = np.empty(
            (self.ring.capacity, self.channels) if each else self.ring.capacity, np.float32
        )

        def take(n: int) -> np.ndarray:
            # A copy: ``scratch`` is reused on the next pass.
            return self.ring.read(n, out=scratch).copy()

        last_audio = time.monotonic()
        while not stop.is_set():
            self.ring.wait(POLL_S)
            self._sync_stats()
            available = self.ring.available()
            if available >= self.block_frames:
                last_audio = time.monotonic()
                # Whole blocks only: reads stay aligned with the stream start, so (at the model
                # rate) a VAD frame is decided the moment its last sample is here, whatever
                # bursts the device delivers in.
                yield take(available - available % self.block_frames)
                continue
            if self._finished.is_set() or not self._stream.active:
                failure = (
                    f"audio input lost: {self.device.name} stopped delivering audio "
                    "(device unplugged, or the audio server went away)"
                )
            elif time.monotonic() - last_audio >= self.stall_timeout_s:
                failure = (
                    f"audio input lost: no audio from {self.device.name} for "
                    f"{time.monotonic() - last_audio:.1f} s (device unplugged or stuck?)"
                )
            else:
                continue
            if self.ring.available():
                yield take(self.ring.available())  # the last of what it delivered
            raise SourceError(failure)

    def _sync_stats(self) -> None:
        self.stats.overruns = self.ring.overruns
        self.stats.dropped_s = self.ring.dropped_samples / self.device_rate
        self.stats.device_overflows = self._device_overflows

    def close(self) -> None:
        """Stop and release the device (idempotent; safe on a device that is already gone)."""
        if self._stream is not None:
            try:
                # abort, not stop: stop waits for buffers to drain, which never happens on a
                # device that has gone quiet.
                self._stream.abort()
                self._stream.close()
            except Exception:  # the device may already be gone; closing must not fail the run
                pass
            self._stream = None
        if hasattr(self, "ring"):
            self._sync_stats()

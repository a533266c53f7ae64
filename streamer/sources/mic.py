"""Live microphone input through PortAudio (sounddevice).

PortAudio's callback runs on its own thread; it copies each block into a preallocated ring
buffer and returns. The consumer (the pipeline thread) drains the buffer, resamples when the
device could not be opened at the model rate, and yields blocks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event
from typing import Any

import numpy as np

from streamer.ringbuffer import RingBuffer
from streamer.sources import InputError, SourceError, SourceStats
from streamer.sources.resample import StreamResampler

PORTAUDIO_HINT = "PortAudio is not installed; install it with: sudo apt-get install libportaudio2"


def import_sounddevice() -> Any:
    try:
        import sounddevice
    except OSError:  # sounddevice raises OSError when libportaudio is missing
        raise SourceError(PORTAUDIO_HINT) from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: int
    host_api: str
    is_default: bool


def list_input_devices() -> list[InputDevice]:
    sd = import_sounddevice()
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


def resolve_device(spec: str | int | None) -> InputDevice:
    """An index, or a case-insensitive part of a name; ``None`` means the system default."""
    devices = list_input_devices()
    if not devices:
        raise InputError("no audio input device found (is a microphone connected?)")
    if spec is None or spec == "":
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


def choose_rate(sd: Any, device: InputDevice, wanted: int) -> int:
    """Open at the model rate when the device allows it, otherwise at its default rate."""
    try:
        sd.check_input_settings(device=device.index, channels=1, samplerate=wanted, dtype="float32")
        return wanted
    except Exception:  # PortAudioError or ValueError: rate not supported
        return device.default_rate


class MicSource:
    def __init__(
        self, device: str | int | None, sample_rate_hz: int, block_ms: int, ring_buffer_s: float
    ) -> None:
        self._sd = import_sounddevice()
        self.device = resolve_device(device)
        self.sample_rate_hz = sample_rate_hz
        self.device_rate = choose_rate(self._sd, self.device, sample_rate_hz)
        self.block_frames = max(1, self.device_rate * block_ms // 1000)
        self.ring = RingBuffer(int(ring_buffer_s * self.device_rate))
        self.stats = SourceStats()
        self._failure: str | None = None
        self._finished = threading.Event()
        self._stream: Any = None
        self.description = (
            f"microphone {self.device.index}: {self.device.name} @ {self.device_rate} Hz"
            + ("" if self.device_rate == sample_rate_hz else f" -> {sample_rate_hz} Hz")
        )

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy into the preallocated ring and return, nothing else.
        if status.input_overflow:
            self.stats.device_overflows += 1
        self.ring.write(indata[:, 0])

    def _on_finished(self) -> None:
        self._finished.set()

    def start(self) -> None:
        try:
            self._stream = self._sd.InputStream(
                device=self.device.index,
                channels=1,
                samplerate=self.device_rate,
                dtype="float32",
                blocksize=self.block_frames,
                callback=self._callback,
                finished_callback=self._on_finished,
            )
            self._stream.start()
        except (self._sd.PortAudioError, ValueError) as exc:
            raise SourceError(f"cannot open {self.description}: {exc}") from None

    def blocks(self, stop: Event) -> Iterator[np.ndarray]:
        if self._stream is None:
            self.start()
        resampler = StreamResampler(self.device_rate, self.sample_rate_hz)
        scratch = np.empty(self.ring.capacity, dtype=np.float32)
        while not stop.is_set():
            self.ring.wait(0.05)
            self._sync_stats()
            available = self.ring.available()
            if available:
                block = self.ring.read(available, out=scratch)
                # The resampler returns a fresh array; without it, hand out a copy because
                # ``scratch`` is reused on the next pass.
                out = resampler.process(block)
                yield out if out is not block else block.copy()
                continue
            if self._finished.is_set() or not self._stream.active:
                raise SourceError(
                    f"audio input stopped: {self.description} is no longer delivering"
                )

    def _sync_stats(self) -> None:
        self.stats.overruns = self.ring.overruns
        self.stats.dropped_s = self.ring.dropped_samples / self.device_rate

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.abort()
                self._stream.close()
            except Exception:  # the device may already be gone; closing must not fail the run
                pass
            self._stream = None
        self._sync_stats()

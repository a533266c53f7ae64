"""A stand-in for the ``sounddevice`` module: devices, rate checks and an input stream whose
callback is driven by the test, so MicSource can be tested without audio hardware."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np


class PortAudioError(Exception):
    pass


@dataclass
class Status:
    input_overflow: bool = False

    def __bool__(self) -> bool:
        return self.input_overflow


@dataclass
class Device:
    name: str
    channels: int = 2
    default_rate: int = 48000
    rates: tuple[int, ...] | None = None  # rates it accepts; None: any
    min_channels: int = 1  # e.g. 2 for an interface that cannot record mono
    open_rates: tuple[int, ...] | None = None  # rates that really open (a check may pass more)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "max_input_channels": self.channels,
            "default_samplerate": float(self.default_rate),
            "hostapi": 0,
        }


class FakeStream:
    """PortAudio input stream: ``deliver`` plays the PortAudio thread and calls the callback."""

    def __init__(self, sd: FakeSoundDevice, **kwargs) -> None:
        self.sd = sd
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished_callback = kwargs.get("finished_callback")
        self.channels = kwargs["channels"]
        self.samplerate = kwargs["samplerate"]
        self.blocksize = kwargs["blocksize"]
        self.active = False
        self.closed = False
        sd.streams.append(self)

    def start(self) -> None:
        if self.sd.fail_open:
            raise PortAudioError(self.sd.fail_open)
        rates = self.sd.devices[self.kwargs["device"]].open_rates
        if rates is not None and self.samplerate not in rates:
            raise PortAudioError("Error starting stream: Invalid sample rate [PaErrorCode -9997]")
        self.active = True

    def deliver(self, mono: np.ndarray, overflow_every: int = 0) -> int:
        """Hand ``mono`` over block by block, as PortAudio's thread would; returns blocks."""
        n = 0
        for start in range(0, len(mono) - self.blocksize + 1, self.blocksize):
            block = np.zeros((self.blocksize, self.channels), dtype=np.float32)
            block[:, 0] = mono[start : start + self.blocksize]
            n += 1
            status = Status(input_overflow=bool(overflow_every and n % overflow_every == 0))
            self.callback(block, self.blocksize, None, status)
        return n

    def deliver_frames(self, frames: np.ndarray) -> int:
        """Like :meth:`deliver` for ``(n, channels)`` audio (one column per device channel)."""
        n = 0
        for start in range(0, len(frames) - self.blocksize + 1, self.blocksize):
            block = np.ascontiguousarray(frames[start : start + self.blocksize], np.float32)
            n += 1
            self.callback(block, self.blocksize, None, Status())
        return n

    def vanish(self) -> None:
        """The device goes away: PortAudio ends the stream and says so."""
        self.active = False
        if self.finished_callback is not None:
            self.finished_callback()

    def abort(self) -> None:
        if self.active:
            self.vanish()

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeSoundDevice:
    devices: list[Device] = field(default_factory=list)
    default_input: int = -1
    fail_open: str = ""
    streams: list[FakeStream] = field(default_factory=list)
    PortAudioError: type = PortAudioError

    @property
    def default(self):
        outer = self

        class _Default:
            device = (outer.default_input, -1)

        return _Default()

    def query_devices(self) -> list[dict]:
        return [d.as_dict() for d in self.devices]

    def query_hostapis(self) -> list[dict]:
        return [{"name": "Fake"}]

    def check_input_settings(self, device: int, channels: int, samplerate: int, dtype: str) -> None:
        spec = self.devices[device]
        if channels > spec.channels or channels < spec.min_channels:
            raise PortAudioError("Invalid number of channels [PaErrorCode -9998]")
        if spec.rates is not None and samplerate not in spec.rates:
            raise PortAudioError("Invalid sample rate [PaErrorCode -9997]")

    def InputStream(self, **kwargs) -> FakeStream:  # noqa: N802 (sounddevice's name)
        return FakeStream(self, **kwargs)


def in_thread(action) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread

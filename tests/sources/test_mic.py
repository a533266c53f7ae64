"""MicSource against a fake PortAudio: device choice, rates, overruns, a vanishing device."""

import subprocess
import sys
import threading
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from fake_sounddevice import Device, FakeSoundDevice

from streamer.engine.channels import ChannelShaper
from streamer.settings import load_settings
from streamer.sources import InputError, SourceError
from streamer.sources import mic as mic_module
from streamer.sources.mic import MicSource, resolve_device

SR = 16000


@pytest.fixture
def fake_sd(monkeypatch):
    sd = FakeSoundDevice(
        devices=[
            Device("HDA Intel PCH: ALC257 Analog (hw:0,0)", channels=2, default_rate=48000),
            Device("HDMI 0 (hw:0,3)", channels=0),  # output only: never listed as an input
            Device("USB Headset: Audio (hw:1,0)", channels=1, default_rate=44100),
            Device("pulse", channels=32, default_rate=44100),
            Device("default", channels=32, default_rate=44100),
        ],
        default_input=4,
    )
    monkeypatch.setattr(mic_module, "import_sounddevice", lambda: sd)
    return sd


AUDIO = load_settings().audio  # 30 ms blocks downstream, 10 ms PortAudio blocks


def open_mic(device=None, ring_s=2.0, stall_s=5.0) -> MicSource:
    audio = replace(AUDIO, ring_buffer_s=ring_s, stall_timeout_s=stall_s)
    return MicSource(device, audio)


def drain(source: MicSource) -> tuple[np.ndarray, str | None]:
    """Everything the source yields until it stops delivering, as the engine's stream gets it
    (resampled to 16 kHz), and its closing error."""
    blocks, error = [], None
    shaper = ChannelShaper(source.channel_mode, source.channels, source.rate_hz, SR)
    try:
        for block in source.blocks(threading.Event()):
            assert block.dtype == np.float32 and block.ndim == 1
            blocks.append(shaper.process(block)[:, 0])
    except SourceError as exc:
        error = str(exc)
    return (np.concatenate(blocks) if blocks else np.zeros(0, np.float32)), error


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, "default"),
        ("", "default"),
        ("0", "HDA Intel PCH: ALC257 Analog (hw:0,0)"),
        (3, "pulse"),
        ("usb", "USB Headset: Audio (hw:1,0)"),
        ("ALC257", "HDA Intel PCH: ALC257 Analog (hw:0,0)"),
        ("PULSE", "pulse"),
        ("default", "default"),  # an exact name wins over names that merely contain it
    ],
)
def test_device_by_index_or_case_insensitive_name_part(fake_sd, spec, expected):
    assert resolve_device(spec, fake_sd).name == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("1", "no input device with index 1"),  # HDMI has no input channels
        ("9", "no input device with index 9"),
        ("bluetooth", "no input device matches 'bluetooth'"),
        ("hw:", "'hw:' matches several input devices (0: HDA Intel"),
    ],
)
def test_unknown_or_ambiguous_device_is_a_usage_error(fake_sd, spec, message):
    with pytest.raises(InputError) as caught:
        resolve_device(spec, fake_sd)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_no_input_device_at_all_is_a_failure_not_a_usage_error(fake_sd):
    fake_sd.devices = [Device("HDMI 0", channels=0)]
    with pytest.raises(SourceError) as caught:
        open_mic()
    assert not isinstance(caught.value, InputError)
    assert str(caught.value).startswith("no audio input device found")
    # A user without a microphone learns that a recording can still be analysed.
    assert "--input FILE replays a recording" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_listing_no_input_devices_points_at_replaying_a_file(fake_sd, capsys):
    from streamer.live.cli import print_devices

    fake_sd.devices = [Device("HDMI 0", channels=0)]
    print_devices()
    out = capsys.readouterr().out
    assert out.startswith("no audio input devices found")
    assert "--input FILE replays a recording" in out and out.count("\n") == 1


def test_opens_at_16k_mono_when_the_device_allows_it(fake_sd):
    source = open_mic("pulse")
    stream_audio = tone(440, 1.0, SR)
    fake_sd.streams[-1].deliver(stream_audio)
    fake_sd.streams[-1].vanish()
    out, _ = drain(source)
    source.close()
    assert (source.device_rate, source.channels) == (SR, 1)
    assert fake_sd.streams[-1].samplerate == SR and fake_sd.streams[-1].blocksize == 160
    np.testing.assert_array_equal(out, stream_audio)  # every sample, in order


def test_blocks_go_downstream_whole_once_complete(fake_sd):
    source = open_mic("pulse")
    stream = fake_sd.streams[-1]
    audio = np.arange(1600, dtype=np.float32)
    sent = 0

    def pass_on(n_samples: int) -> list[np.ndarray]:
        """Deliver the next samples (in 10 ms PortAudio blocks), return what went downstream."""
        nonlocal sent
        stream.deliver(audio[sent : sent + n_samples])
        sent += n_samples
        stop = threading.Event()
        threading.Timer(0.15, stop.set).start()
        return list(source.blocks(stop))

    assert pass_on(320) == []  # 20 ms: no 30 ms block yet
    got = pass_on(320)  # 40 ms waiting: one whole block goes, 10 ms stay behind
    assert [len(b) for b in got] == [480]
    got += pass_on(800)  # 10 + 50 ms waiting: two whole blocks, in one piece
    assert [len(b) for b in got] == [480, 960]
    source.close()
    # Whole blocks keep reads on the 30 ms grid from the start of the stream, in order.
    np.testing.assert_array_equal(np.concatenate(got), audio[:1440])


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SR / len(samples))


def test_invalid_sample_rate_falls_back_to_the_device_rate_and_resamples(fake_sd):
    fake_sd.devices[2].rates = (44100, 48000)  # the headset refuses 16 kHz
    source = open_mic("usb")
    assert (source.device_rate, source.channels) == (44100, 1)
    assert source.description.endswith("@ 44100 Hz -> 16000 Hz")
    blocks = fake_sd.streams[-1].deliver(tone(440, 2.0, 44100))
    fake_sd.streams[-1].vanish()
    out, error = drain(source)
    source.close()
    assert "audio input lost" in error
    delivered = blocks * 441 * SR / 44100  # 10 ms blocks at 44.1 kHz, in 16 kHz samples
    assert delivered - 0.05 * SR < len(out) <= delivered  # less the resampler's delay
    assert dominant_hz(out[SR // 4 : -SR // 4]) == pytest.approx(440, abs=2)
    rms = np.sqrt(np.mean(out[SR // 4 : -SR // 4] ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_a_device_that_cannot_record_mono_is_opened_in_stereo_and_channel_1_used(fake_sd):
    fake_sd.devices[0].min_channels = 2
    source = open_mic("alc257")
    assert source.device_channels == 2 and "channel 1 of 2" in source.description
    assert source.device_rate == SR


def test_a_device_that_takes_neither_rate_is_refused_in_one_line(fake_sd):
    fake_sd.devices[2].rates = (8000,)
    with pytest.raises(SourceError) as caught:
        open_mic("usb")
    message = str(caught.value)
    assert "cannot record at 16000 Hz nor at its default 44100 Hz" in message
    assert "Invalid sample rate" in message and "\n" not in message


def test_open_failure_is_a_one_line_source_error(fake_sd):
    fake_sd.fail_open = "Device unavailable [PaErrorCode -9985]"
    with pytest.raises(SourceError) as caught:
        open_mic("pulse")
    message = str(caught.value)
    assert message.startswith("cannot open microphone 3: pulse @ ")
    assert "Device unavailable" in message and "\n" not in message
    assert all(stream.closed or not stream.active for stream in fake_sd.streams)


def test_a_rate_refused_only_when_opening_falls_back_to_the_device_rate(fake_sd):
    fake_sd.devices[0].open_rates = (48000,)  # the check says yes to 16 kHz, opening says no
    source = open_mic("alc257")
    assert source.device_rate == 48000 and source.description.endswith("-> 16000 Hz")
    fake_sd.streams[-1].deliver(tone(440, 1.0, 48000))
    fake_sd.streams[-1].vanish()
    out, _ = drain(source)
    source.close()
    assert dominant_hz(out[SR // 4 : -SR // 4]) == pytest.approx(440, abs=2)


def test_overrun_drops_the_newest_audio_and_counts_it(fake_sd):
    source = open_mic("pulse", ring_s=1.0)
    audio = np.arange(3 * SR, dtype=np.float32) / (3 * SR)
    # The consumer is stuck for 3 s: only the first second fits in the 1 s ring.
    blocks = fake_sd.streams[-1].deliver(audio)
    fake_sd.streams[-1].vanish()
    out, _ = drain(source)
    source.close()
    np.testing.assert_array_equal(out, audio[:SR])  # the oldest second, intact
    assert source.stats.overruns == blocks - SR // 160  # every 10 ms block that did not fit
    assert source.stats.dropped_s == pytest.approx(2.0)


def test_portaudio_overflow_flags_are_counted(fake_sd):
    source = open_mic("pulse")
    fake_sd.streams[-1].deliver(np.zeros(50 * 480, np.float32), overflow_every=10)
    fake_sd.streams[-1].vanish()
    drain(source)
    source.close()
    assert source.stats.device_overflows == 15  # 150 blocks, every tenth flagged
    assert source.stats.overruns == 0


def test_vanishing_device_hands_over_what_it_had_then_fails_in_one_line(fake_sd):
    source = open_mic("usb")
    audio = tone(300, 0.6, SR)
    fake_sd.streams[-1].deliver(audio)
    fake_sd.streams[-1].vanish()
    out, error = drain(source)
    source.close()
    np.testing.assert_array_equal(out, audio)  # including the last, incomplete block
    assert error == (
        "audio input lost: USB Headset: Audio (hw:1,0) stopped delivering audio "
        "(device unplugged, or the audio server went away)"
    )


def test_a_device_that_goes_silent_ends_the_run_after_the_stall_timeout(fake_sd):
    source = open_mic("pulse", stall_s=0.2)
    fake_sd.streams[-1].deliver(np.zeros(4800, np.float32))  # then nothing, stream still "active"
    out, error = drain(source)
    source.close()
    assert len(out) == 4800
    assert error.startswith("audio input lost: no audio from pulse for 0.")


def test_stop_ends_the_stream_without_error(fake_sd):
    source = open_mic("pulse")
    fake_sd.streams[-1].deliver(np.ones(960, np.float32))
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()  # Ctrl-C while the device is quiet
    received = sum(len(b) for b in source.blocks(stop))
    source.close()
    assert received == 960
    assert fake_sd.streams[-1].closed


def test_callback_copies_without_allocating_per_block(fake_sd):
    source = open_mic("pulse", ring_s=30.0)
    block = np.full((4800, 1), 0.25, dtype=np.float32)  # 19 kB a block if it were copied
    status = type("Status", (), {"input_overflow": False})()
    source._callback(block, 4800, None, status)  # warm up
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(50):
            source._callback(block, 4800, None, status)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current - base < 1024 and peak - base < 4096
    assert source.ring.available() == 51 * 4800
    source.close()


def test_missing_portaudio_names_the_package_to_install(linear_model):
    code = (
        "import ctypes.util, sys\n"
        "ctypes.util.find_library = lambda name: None\n"
        "from streamer.live.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    for args in (["--list-devices"], ["--no-ui", "--device", "0", "--model", str(linear_model)]):
        result = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert lines[0].startswith("ser-live: error: PortAudio library not found")
        assert "sudo apt-get install libportaudio2" in lines[0]
        assert "--input FILE replays a recording" in lines[0]


# --- channel choice (issue 13) -------------------------------------------------------------


def four_channel_device(fake_sd):
    fake_sd.devices.append(Device("Interface 4in", channels=4, default_rate=SR))
    return str(len(fake_sd.devices) - 1)


def drain_any(source: MicSource) -> np.ndarray:
    """What the engine's streams get from the source: (frames, streams), or 1-D for one."""
    blocks = []
    shaper = ChannelShaper(source.channel_mode, source.channels, source.rate_hz, SR)
    with pytest.raises(SourceError):
        for block in source.blocks(threading.Event()):
            assert block.dtype == np.float32
            blocks.append(shaper.process(block))
    out = np.concatenate(blocks)
    return out if source.channel_mode == "each" else out[:, 0]


def test_channel_n_opens_enough_channels_and_hands_on_that_one(fake_sd):
    source = open_mic_channels(four_channel_device(fake_sd), 3)
    stream = fake_sd.streams[-1]
    assert stream.channels == 3 and source.streams == 1
    assert "channel 3 of 3" in source.description
    frames = np.stack([tone(f, 0.3, SR) for f in (200, 300, 400)], axis=1)
    stream.deliver_frames(frames)
    stream.vanish()
    out = drain_any(source)
    source.close()
    assert out.ndim == 1
    np.testing.assert_array_equal(out, frames[: len(out), 2])


def test_each_opens_every_channel_and_hands_on_2d_blocks(fake_sd):
    source = open_mic_channels(four_channel_device(fake_sd), "each")
    stream = fake_sd.streams[-1]
    assert stream.channels == 4 and source.streams == 4
    frames = np.stack([tone(f, 0.3, SR) for f in (200, 300, 400, 500)], axis=1)
    stream.deliver_frames(frames)
    stream.vanish()
    out = drain_any(source)
    source.close()
    assert out.ndim == 2 and out.shape[1] == 4
    np.testing.assert_array_equal(out, frames[: len(out)])


def test_each_resamples_every_channel_from_the_device_rate(fake_sd):
    fake_sd.devices.append(Device("Stereo 48k", channels=2, default_rate=48000, rates=(48000,)))
    source = open_mic_channels(str(len(fake_sd.devices) - 1), "each")
    stream = fake_sd.streams[-1]
    assert stream.samplerate == 48000
    frames = np.stack([tone(300, 1.0, 48000), tone(700, 1.0, 48000)], axis=1)
    stream.deliver_frames(frames)
    stream.vanish()
    out = drain_any(source)
    source.close()
    # soxr holds back its filter delay (~20 ms) until more audio comes
    assert out.shape[1] == 2 and len(out) == pytest.approx(SR, abs=SR // 20)
    assert dominant_hz(out[SR // 4 : -SR // 4, 0]) == pytest.approx(300, abs=3)
    assert dominant_hz(out[SR // 4 : -SR // 4, 1]) == pytest.approx(700, abs=3)


def test_a_channel_the_device_lacks_is_one_line(fake_sd):
    with pytest.raises(InputError) as caught:
        open_mic_channels("usb", 2)
    assert str(caught.value) == (
        "--channel 2: input device 2: USB Headset: Audio (hw:1,0) has 1 channel "
        "(channels count from 1)"
    )
    assert fake_sd.streams == []  # refused before anything was opened


def open_mic_channels(device, channels) -> MicSource:
    audio = replace(AUDIO, ring_buffer_s=2.0, stall_timeout_s=5.0)
    return MicSource(device, audio, channels=channels)

import threading

import numpy as np
import pytest
import soundfile as sf

from streamer.engine.channels import ChannelShaper
from streamer.sources import InputError
from streamer.sources.file import FileSource

SR = 16000


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def received(source: FileSource) -> list[np.ndarray]:
    """What the engine's streams get from ``source``: its blocks, at the file's own rate and
    channel count, through the channel choice and the resampler to 16 kHz."""
    shaper = ChannelShaper(source.channel_mode, source.channels, source.rate_hz, SR)
    try:
        blocks = list(source.blocks(threading.Event()))
    finally:
        source.close()
    assert all(b.dtype == np.float32 and b.shape[1:] == (source.channels,) for b in blocks)
    end = np.zeros((0, source.channels), np.float32)
    out = [shaper.process(b) for b in blocks] + [shaper.process(end, last=True)]
    return [b for b in out if len(b)]


def read_all(path, realtime=False) -> np.ndarray:
    blocks = received(FileSource(path, 30, realtime=realtime))
    assert all(b.dtype == np.float32 and b.shape[1] == 1 for b in blocks)
    return np.concatenate(blocks)[:, 0] if blocks else np.zeros(0, np.float32)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SR / len(samples))


CASES = [
    # (file name, rate, channels, format, subtype)
    ("u8_stereo_8k.wav", 8000, 2, "WAV", "PCM_U8"),
    ("float_96k.wav", 96000, 1, "WAV", "FLOAT"),
    ("pcm24_6ch.flac", 48000, 6, "FLAC", "PCM_24"),
    ("vorbis_44k.ogg", 44100, 2, "OGG", "VORBIS"),
    ("pcm16_22k.wav", 22050, 1, "WAV", "PCM_16"),
    ("pcm16_16k.flac", 16000, 1, "FLAC", "PCM_16"),
]


@pytest.mark.parametrize(("name", "rate", "channels", "fmt", "subtype"), CASES)
def test_any_rate_channels_and_format_become_16k_mono(tmp_path, name, rate, channels, fmt, subtype):
    seconds = 2.0
    mono = tone(440.0, seconds, rate)
    data = np.repeat(mono[:, None], channels, axis=1)
    path = tmp_path / name
    sf.write(path, data, rate, format=fmt, subtype=subtype)
    out = read_all(path)
    assert len(out) == pytest.approx(seconds * SR, abs=2)
    assert dominant_hz(out[SR // 4 : -SR // 4]) == pytest.approx(440.0, abs=2.0)
    rms = np.sqrt(np.mean(out[SR // 4 : -SR // 4] ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


def test_channels_are_averaged(tmp_path):
    left = tone(300.0, 1.0, SR)
    path = tmp_path / "left_only.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), SR, subtype="FLOAT")
    out = read_all(path)
    np.testing.assert_allclose(out, 0.5 * left, atol=1e-6)


@pytest.mark.parametrize("frames", [0, 1])
def test_zero_length_and_single_sample_files_give_little_or_nothing(tmp_path, frames):
    path = tmp_path / "tiny.wav"
    sf.write(path, np.zeros(frames, dtype=np.float32), 44100)
    assert len(read_all(path)) <= 1


def test_realtime_pacing_takes_about_the_audio_duration(tmp_path):
    import time

    path = tmp_path / "half_second.wav"
    sf.write(path, tone(200.0, 0.5, SR), SR)
    started = time.monotonic()
    read_all(path, realtime=True)
    assert time.monotonic() - started >= 0.45


def test_stop_event_ends_replay_early(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(200.0, 30.0, SR), SR)
    source = FileSource(path, 30, realtime=True)
    stop = threading.Event()
    got = 0
    for block in source.blocks(stop):
        got += len(block)
        stop.set()
    assert got < SR


def write_text(path):
    path.write_text("this is not audio\n" * 20)
    return path


def write_truncated(path):
    sf.write(path, tone(200.0, 1.0, SR), SR)
    path.write_bytes(path.read_bytes()[:20])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.wav", "not found"),
        (lambda p: p, "is a directory"),
        (lambda p: (p / "empty.wav").open("w").close() or p / "empty.wav", "is empty"),
        (lambda p: write_text(p / "notes.wav"), "cannot read"),
        (lambda p: write_truncated(p / "cut.wav"), "cannot read"),
    ],
    ids=["missing", "directory", "empty", "text", "truncated-header"],
)
def test_unusable_files_are_refused_with_one_line(tmp_path, make, message):
    with pytest.raises(InputError) as caught:
        FileSource(make(tmp_path), 30, realtime=False)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# --- channel choice, raw PCM, --start-time (issue 13) -------------------------------------


def three_channels(tmp_path, rate=44100):
    """Channel 1: 300 Hz, 2: 700 Hz, 3: silence."""
    data = np.stack([tone(300.0, 1.0, rate), tone(700.0, 1.0, rate), np.zeros(rate)], axis=1)
    path = tmp_path / "three.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    return path


def shaped(path, channels, **kwargs):
    source = FileSource(path, 30, realtime=False, chunk_s=0.25, channels=channels, **kwargs)
    return source, received(source)


def test_one_channel_is_handed_on_alone(tmp_path):
    source, blocks = shaped(three_channels(tmp_path), 2)
    assert source.streams == 1 and "channel 2 of 3" in source.description
    assert all(b.shape[1] == 1 and b.dtype == np.float32 for b in blocks)
    out = np.concatenate(blocks)[:, 0]
    assert len(out) == pytest.approx(SR, abs=2)
    assert dominant_hz(out[SR // 4 : -SR // 4]) == pytest.approx(700.0, abs=2.0)


def test_each_gives_2d_blocks_every_channel_resampled(tmp_path):
    source, blocks = shaped(three_channels(tmp_path), "each")
    assert source.streams == 3 and "each of 3 channels" in source.description
    assert all(b.ndim == 2 and b.shape[1] == 3 and b.dtype == np.float32 for b in blocks)
    out = np.concatenate(blocks)
    assert len(out) == pytest.approx(SR, abs=2)
    assert dominant_hz(out[SR // 4 : -SR // 4, 0]) == pytest.approx(300.0, abs=2.0)
    assert dominant_hz(out[SR // 4 : -SR // 4, 1]) == pytest.approx(700.0, abs=2.0)
    assert np.max(np.abs(out[:, 2])) < 1e-4


def test_mix_stays_the_1d_downmix(tmp_path):
    source, blocks = shaped(three_channels(tmp_path), "mix")
    assert source.streams == 1
    assert all(b.shape[1] == 1 for b in blocks)


def test_each_of_a_mono_file_is_one_column(tmp_path):
    path = tmp_path / "mono.wav"
    sf.write(path, tone(300.0, 0.5, SR), SR)
    source, blocks = shaped(path, "each")
    assert source.streams == 1 and all(b.shape[1:] == (1,) for b in blocks)


def test_a_channel_the_file_lacks_is_one_line(tmp_path):
    with pytest.raises(InputError) as caught:
        FileSource(three_channels(tmp_path), 30, realtime=False, channels=4)
    assert str(caught.value) == "--channel 4: three.wav has 3 channels (channels count from 1)"


@pytest.mark.parametrize(
    ("fmt", "dtype", "scale"),
    [("s16le", "<i2", 32767), ("s32le", "<i4", 2**31 - 1), ("f32le", "<f4", 1.0)],
)
def test_raw_pcm_file(tmp_path, fmt, dtype, scale):
    from streamer.sources.raw import RawFormat

    stereo = np.stack([tone(440.0, 1.0, 8000), np.zeros(8000)], axis=1)
    path = tmp_path / "call.raw"
    (stereo * scale).astype(dtype).tofile(path)
    source, blocks = shaped(path, 1, raw=RawFormat(8000, fmt, 2))
    assert "raw " + fmt in source.description
    out = np.concatenate(blocks)[:, 0]
    assert len(out) == pytest.approx(SR, abs=2)
    assert dominant_hz(out[SR // 4 : -SR // 4]) == pytest.approx(440.0, abs=2.0)


def test_start_time_replaces_the_modification_time(tmp_path):
    from datetime import datetime, timezone

    path = tmp_path / "call.wav"
    sf.write(path, tone(200.0, 0.5, SR), SR)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    source = FileSource(path, 30, realtime=False, start_time=start)
    source.close()
    assert source.recording_start == start


def _cut(path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


@pytest.mark.parametrize(
    ("name", "fmt", "subtype"),
    [
        ("cut.wav", "WAV", "PCM_16"),
        ("cut.aiff", "AIFF", "PCM_16"),
        ("cut.au", "AU", "PCM_16"),
        ("cut.w64", "W64", "PCM_16"),
        ("cut.rf64", "RF64", "PCM_16"),
        ("cut_float.wav", "WAV", "FLOAT"),
        ("cut.flac", "FLAC", "PCM_16"),
    ],
)
def test_a_file_cut_short_of_its_header_is_read_then_reported_truncated(
    tmp_path, name, fmt, subtype
):
    """Issue 22.12: libsndfile reads what is there and says nothing; the header's claim is
    taken from its log (or the decoder fails early) and the source says so after the rows."""
    from streamer.sources import InputTruncated

    path = tmp_path / name
    sf.write(path, tone(300.0, 10.0, SR), SR, format=fmt, subtype=subtype)
    _cut(path, 0.3)
    source = FileSource(path, 30, realtime=False, chunk_s=1.0)
    got = 0
    with pytest.raises(InputTruncated, match=r"is truncated: its audio ends at .* the header"):
        for block in source.blocks(threading.Event()):
            got += len(block)
    source.close()
    assert got >= 2 * SR  # what was there came first


def test_a_streamed_wav_header_of_unknown_length_is_not_truncation(tmp_path):
    """Recorders writing to a pipe put 0xFFFFFFFF (or 0x7FFFFFFF) where the length goes."""
    path = tmp_path / "streamed.wav"
    sf.write(path, tone(300.0, 2.0, SR), SR, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    at = data.index(b"data") + 4
    data[4:8] = (0xFFFFFFFF).to_bytes(4, "little")
    data[at : at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    source = FileSource(path, 30, realtime=False)
    assert sum(len(b) for b in source.blocks(threading.Event())) == 2 * SR
    source.close()

"""Input side of issue 13 through pipes and the command line: ``--input -`` (WAV, ffmpeg's
streamed WAV, OGG, FLAC, raw PCM), Ctrl-C on a pipe that stays open, ``--start-time``, and the
one-line refusals of the new flags."""

from __future__ import annotations

import csv
import io
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import numpy as np
import pytest
import soundfile as sf
from synth import SR, speech_and_silence
from tools import terminal_signals

from streamer.engine.channels import ChannelShaper
from streamer.sources import InputError
from streamer.sources.raw import RawFormat
from streamer.sources.stdin import StdinSource

PATTERN = [("silence", 0.4), ("speech", 1.0), ("silence", 0.7), ("speech", 0.9), ("silence", 0.6)]


def tone(freq: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encoded(data: np.ndarray, rate: int, fmt: str, subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, data, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def ffmpeg_wav(data: np.ndarray, rate: int) -> bytes:
    """WAV as ffmpeg writes it to a pipe: sizes unknown (0xFFFFFFFF), a LIST chunk first."""
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2")
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    info = b"INFO" + b"ISFT" + struct.pack("<I", 14) + b"Lavf60.16.100\x00"
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    body += b"LIST" + struct.pack("<I", len(info)) + info
    body += b"data" + struct.pack("<I", 0xFFFFFFFF) + pcm.tobytes()
    return b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + body


def piped(payload: bytes, keep_open: bool = False) -> tuple[int, int | None]:
    """A real pipe carrying ``payload`` (written by a thread); (read end, write end if kept)."""
    read_end, write_end = os.pipe()

    def write() -> None:
        os.write(write_end, payload) if len(payload) < 60000 else _write_all(write_end, payload)
        if not keep_open:
            os.close(write_end)

    threading.Thread(target=write, daemon=True).start()
    return read_end, (write_end if keep_open else None)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view) :]


def read_pipe(payload: bytes, **kwargs) -> tuple[StdinSource, np.ndarray]:
    fd, _ = piped(payload)
    source = StdinSource(30, fd=fd, **kwargs)
    try:
        blocks = list(source.blocks(threading.Event()))
    finally:
        source.close()
        os.close(fd)
    # What the engine's streams get: the channel choice applied, resampled to 16 kHz.
    shaper = ChannelShaper(source.channel_mode, source.channels, source.rate_hz, SR)
    end = np.zeros((0, source.channels), np.float32)
    out = [shaper.process(b) for b in blocks] + [shaper.process(end, last=True)]
    shaped = np.concatenate(out)
    one = shaped.shape[1] == 1 and source.channel_mode != "each"
    return source, shaped[:, 0] if one else shaped


def stereo(rate: int, seconds: float = 2.0) -> np.ndarray:
    return np.stack([tone(440.0, seconds, rate), tone(660.0, seconds, rate) * 0.5], axis=1)


CASES = {
    "wav": lambda: encoded(stereo(44100), 44100, "WAV", "PCM_16"),
    "ffmpeg-wav": lambda: ffmpeg_wav(stereo(44100), 44100),
    "ogg-vorbis": lambda: encoded(stereo(44100), 44100, "OGG", "VORBIS"),
    "flac": lambda: encoded(stereo(48000), 48000, "FLAC", "PCM_24"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_formats_from_a_real_pipe(name):
    source, out = read_pipe(CASES[name]())
    assert source.description.startswith("stdin (")
    assert ("read to the end first" in source.description) == (name == "flac")
    assert len(out) == pytest.approx(2 * SR, abs=2)
    assert out.ndim == 1 and out.dtype == np.float32


def test_each_channel_from_a_pipe_is_2d():
    source, out = read_pipe(CASES["ffmpeg-wav"](), channels="each")
    assert source.streams == 2 and out.shape == (pytest.approx(2 * SR, abs=2), 2)


@pytest.mark.parametrize(
    ("fmt", "encode"),
    [
        ("s16le", lambda x: (x * 32767).astype("<i2").tobytes()),
        ("s24le", lambda x: b"".join(int(v).to_bytes(3, "little", signed=True)
                                     for v in (x * 8388607).astype(np.int32))),
        ("f32le", lambda x: x.astype("<f4").tobytes()),
        ("u8", lambda x: (x * 127 + 128).astype(np.uint8).tobytes()),
    ],
)
def test_raw_pcm_from_a_pipe(fmt, encode):
    audio = tone(440.0, 1.0, 8000)
    source, out = read_pipe(encode(audio), raw=RawFormat(8000, fmt, 1))
    assert f"raw {fmt}" in source.description
    assert len(out) == pytest.approx(SR, abs=2)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    assert np.argmax(spectrum) * SR / len(out) == pytest.approx(440.0, abs=2)


def test_an_empty_pipe_and_text_are_refused_in_one_line():
    for payload, message in ((b"", "stdin is empty"), (b"hello\n" * 50, "cannot read stdin")):
        fd, _ = piped(payload)
        with pytest.raises(InputError) as caught:
            StdinSource(30, fd=fd)
        os.close(fd)
        assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_stop_ends_a_pipe_that_stays_open_within_a_second():
    one_second = ffmpeg_wav(tone(300.0, 1.0, SR), SR)
    fd, write_end = piped(one_second, keep_open=True)
    source = StdinSource(30, fd=fd)
    stop = threading.Event()
    got = 0
    started = time.monotonic()
    threading.Timer(1.0, stop.set).start()
    for block in source.blocks(stop):
        got += len(block)
    stopped_in = time.monotonic() - started
    source.close()
    closed_in = time.monotonic() - started
    os.close(write_end)
    os.close(fd)
    assert SR - 480 <= got <= SR  # all it was given, less a block the decoder still awaits
    assert stopped_in < 1.6 and closed_in < 2.0


def test_a_stop_while_waiting_for_the_first_bytes_yields_nothing():
    read_end, write_end = os.pipe()
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    source = StdinSource(30, fd=read_end, stop=stop)
    assert time.monotonic() - started < 1.0
    assert list(source.blocks(stop)) == [] and "stopped before" in source.description
    source.close()
    os.close(write_end)
    os.close(read_end)


# --- through the command line --------------------------------------------------------------


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "streamer.live.cli", *map(str, args)]


def rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def call_wav() -> bytes:
    audio, truth = speech_and_silence(PATTERN)
    assert len(truth) == 2
    return ffmpeg_wav(audio, SR)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ser-live: error: "), result.stderr
    return lines[0]


def test_stdin_replay_logs_rows_with_the_clock(tmp_path, call_wav, linear_model):
    out = tmp_path / "t.csv"
    before = datetime.now().astimezone()
    result = subprocess.run(
        cli("--input", "-", "--no-ui", "--csv", out, "--model", linear_model),
        input=call_wav,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert b"ser-live: stdin (WAV PCM_16, 16000 Hz, 1 ch, streamed)" in result.stderr
    got = rows(out)
    assert len(got) == 2
    stamp = datetime.fromisoformat(got[0]["wall_time"])
    assert before - timedelta(seconds=1) <= stamp <= datetime.now().astimezone()


def test_a_pipe_faster_than_real_time_reports_backlog_not_latency(
    tmp_path, call_wav, linear_model
):
    """Issue 21.13: a whole file piped in is read far faster than real time; a clock "latency"
    then measures the queue, and the summary says so. With --start-time the rows run on the
    call's own time and the (stream-time) latency is one again."""
    result = subprocess.run(
        cli("--input", "-", "--no-ui", "--model", linear_model),
        input=call_wav,
        capture_output=True,
        timeout=120,
    )
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert result.returncode == 0 and " backlog median " in summary, summary
    assert "faster than real time" in summary and " latency median " not in summary
    timed = subprocess.run(
        cli("--input", "-", "--no-ui", "--model", linear_model, "--start-time", "2026-01-01"),
        input=call_wav,
        capture_output=True,
        timeout=120,
    )
    assert " latency median " in timed.stderr.decode().strip().splitlines()[-1]


def test_stdin_with_start_time_carries_the_calls_own_time(tmp_path, call_wav, linear_model):
    out = tmp_path / "t.csv"
    start = "2026-03-04T05:06:07+02:00"
    args = ["--input", "-", "--no-ui", "--csv", out, "--model", linear_model, "--start-time"]
    result = subprocess.run(
        cli(*args, start), input=call_wav, capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    first = rows(out)[0]
    stamp = datetime.fromisoformat(first["wall_time"])
    offset = (stamp - datetime.fromisoformat(start)).total_seconds()
    assert float(first["end_s"]) <= offset <= float(first["end_s"]) + 0.5  # + the hang-over
    assert first["wall_time"].endswith("+02:00")


def test_realtime_replay_with_start_time(tmp_path, linear_model):
    audio, _ = speech_and_silence(PATTERN)
    path = tmp_path / "call.wav"
    sf.write(path, audio, SR)
    out = tmp_path / "t.csv"
    args = ["--input", path, "--no-ui", "--realtime", "--csv", out, "--model", linear_model]
    result = subprocess.run(
        cli(*args, "--start-time", "2020-01-01 00:00:00"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    got = rows(out)
    assert len(got) == 2
    start = datetime(2020, 1, 1).astimezone()  # no zone given: local time
    for row in got:
        offset = (datetime.fromisoformat(row["wall_time"]) - start).total_seconds()
        assert float(row["end_s"]) <= offset <= float(row["end_s"]) + 0.5
        assert float(row["latency_ms"]) >= 250  # still measured on the clock: the hang-over


def test_ctrl_c_on_a_pipe_that_stays_open(tmp_path, linear_model):
    audio, _ = speech_and_silence([("silence", 0.3), ("speech", 0.7), ("silence", 0.6)])
    out = tmp_path / "t.csv"
    process = subprocess.Popen(
        cli("--input", "-", "--no-ui", "--csv", out, "--model", linear_model),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=False,
        preexec_fn=terminal_signals,
    )
    header = ffmpeg_wav(audio, SR)
    process.stdin.write(header)
    process.stdin.flush()  # and the pipe stays open: a live process that has paused
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and len(rows(out)) >= 1):
        time.sleep(0.05)
    assert len(rows(out)) == 1
    sent = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)
    stopped_in = time.monotonic() - sent
    stderr = process.stderr.read().decode()
    process.stdin.close()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "ended by stop request" in stderr.strip().splitlines()[-1]
    assert stopped_in < 1.5
    assert len(rows(out)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "-", "--raw-format", "s16le"], "--raw-format needs --raw-rate"),
        (["--input", "-", "--raw-channels", "2"], "--raw-channels needs --raw-rate"),
        (["--raw-rate", "8000"], "--raw-rate describes a recording"),
        (["--input", "-", "--raw-rate", "10"], "--raw-rate must be 1000..768000 Hz"),
        (["--input", "-", "--raw-rate", "8000", "--raw-channels", "0"], "--raw-channels must be"),
        (["--input", "-", "--raw-rate", "8000", "--raw-format", "s8"], "invalid choice: 's8'"),
        (["--start-time", "2026-01-01T10:00"], "--start-time is for recordings"),
        (["--input", "-", "--start-time", "yesterday"], "not an ISO 8601 time: 'yesterday'"),
    ],
)
def test_bad_input_flags_are_one_line_exit_2(args, message, linear_model):
    result = run_with_stdin(b"", *args, "--no-ui", "--model", linear_model)
    assert message in one_error_line(result)


def run_with_stdin(payload: bytes, *args) -> subprocess.CompletedProcess:
    """ser-live with ``payload`` as its stdin; stdout and stderr decoded."""
    result = subprocess.run(cli(*args), input=payload, capture_output=True, timeout=60)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"", "stdin is empty"), (b"not audio at all\n" * 30, "cannot read stdin as audio")],
)
def test_unusable_stdin_is_one_line_exit_2(payload, message, linear_model, tmp_path):
    out = tmp_path / "t.csv"
    args = ["--input", "-", "--no-ui", "--csv", out, "--model", linear_model]
    result = run_with_stdin(payload, *args)
    assert message in one_error_line(result)
    assert not out.exists()


def test_help_lists_the_new_flags():
    result = subprocess.run(cli("--help"), capture_output=True, text=True, timeout=60)
    for flag in ("--start-time", "--raw-rate", "--raw-format", "--raw-channels", "stdin"):
        assert flag in result.stdout

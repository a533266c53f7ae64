"""Bad and odd input files through the real command line (a subprocess each, run side by side):
unusable files give one line on stderr and exit 2 with no log written; odd but valid audio gives
exit 0 and a valid CSV, with a row per utterance and none where there is no speech."""

import csv
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from onnx_factory import LABELS
from synth import speech_and_silence

from streamer.live.cli import main
from streamer.sinks.rows import field_names

PATTERN = [("silence", 0.5), ("speech", 1.2), ("silence", 0.9), ("speech", 1.0), ("silence", 0.7)]
UTTERANCES = 2


def speech_at(rate: int, channels: int) -> np.ndarray:
    audio, _ = speech_and_silence(PATTERN, sr=rate)
    # Each channel a little different, as from a real multichannel recorder.
    gains = np.linspace(1.0, 0.6, channels, dtype=np.float32)
    return audio[:, None] * gains[None, :]


def write_wav_header_only(path: Path) -> None:
    sf.write(path, np.zeros((0, 1), np.float32), 16000, subtype="PCM_16")


def write_truncated(path: Path) -> None:
    sf.write(path, speech_at(16000, 1), 16000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:24])  # cut inside the 'fmt ' chunk


def write_absurd_rate(path: Path) -> None:
    # A damaged header: 3 Hz would make 1.2 s of samples into hours of audio to resample.
    sf.write(path, speech_at(16000, 1), 16000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[24:28] = (3).to_bytes(4, "little")  # the fmt chunk's sample rate
    data[28:32] = (6).to_bytes(4, "little")  # and its byte rate
    path.write_bytes(bytes(data))


def write_m4a(path: Path) -> None:
    # An MP4/AAC container (what phones record): a real format that libsndfile cannot decode.
    ftyp = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomM4A "
    mdat = b"\x00\x00\x04\x08mdat" + bytes(range(256)) * 4
    path.write_bytes(ftyp + mdat)


BAD = {
    # name: (how to make it, part of the one-line message)
    "missing": (None, "input file not found"),
    "directory": ("dir", "is a directory"),
    "empty": (lambda p: p.write_bytes(b""), "is empty"),
    "text": (lambda p: p.write_text("Meeting notes\nnot audio at all\n" * 40), "cannot read"),
    "truncated_header": (write_truncated, "cannot read"),
    "unsupported_format": (write_m4a, "cannot read"),
    "absurd_sample_rate": (write_absurd_rate, "sample rate 3 Hz is outside"),
}

ODD = {
    # name: (how to make it, expected rows)
    "zero_length_data": (write_wav_header_only, 0),
    "single_sample": (lambda p: sf.write(p, np.array([0.5], np.float32), 44100), 0),
    "pure_silence": (lambda p: sf.write(p, np.zeros(3 * 16000, np.float32), 16000), 0),
    "u8_stereo_8k": (lambda p: sf.write(p, speech_at(8000, 2), 8000, subtype="PCM_U8"), UTTERANCES),
    "float_96k": (lambda p: sf.write(p, speech_at(96000, 1), 96000, subtype="FLOAT"), UTTERANCES),
    "pcm24_6ch_flac": (
        lambda p: sf.write(p, speech_at(48000, 6), 48000, format="FLAC", subtype="PCM_24"),
        UTTERANCES,
    ),
}
SUFFIX = {"unsupported_format": ".m4a", "pcm24_6ch_flac": ".flac", "text": ".wav"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, linear_model):
    """Runs every case at once; name -> (completed process, CSV path)."""
    root = tmp_path_factory.mktemp("inputs")
    jobs = {}
    for name, (make, _) in {**BAD, **ODD}.items():
        path = root / f"{name}{SUFFIX.get(name, '.wav')}"
        if make == "dir":
            path.mkdir()
        elif make is not None:
            make(path)
        out = root / f"{name}.csv"
        args = ["--input", str(path), "--no-ui", "--fast", "--csv", str(out)]
        jobs[name] = (args + ["--model", str(linear_model)], out)

    def launch(args):
        return subprocess.run(
            [sys.executable, "-m", "streamer.live.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(launch, args) for name, (args, _) in jobs.items()}
        return {name: (futures[name].result(), jobs[name][1]) for name in jobs}


@pytest.mark.parametrize("name", list(BAD))
def test_unusable_input_is_one_line_exit_2_and_no_log(outcomes, name):
    result, out = outcomes[name]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ser-live: error: ") and BAD[name][1] in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()  # no empty, misleading log for a run that never happened


@pytest.mark.parametrize("name", list(ODD))
def test_odd_but_valid_audio_gives_exit_0_and_a_valid_csv(outcomes, name):
    result, out = outcomes[name]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with open(out, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header == field_names(LABELS)
    assert len(rows) == ODD[name][1]
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith(f"summary: {len(rows)} utterance") and "end of input" in summary
    for row in rows:
        assert len(row) == len(header)
        record = dict(zip(header, row, strict=True))
        probs = np.array([float(record[f"p_{label}"]) for label in LABELS])
        assert probs.sum() == pytest.approx(1.0, abs=1e-4)
        assert record["label"] == LABELS[int(np.argmax(probs))]
        assert 0 <= float(record["start_s"]) < float(record["end_s"]) <= 5.0
        assert float(record["latency_ms"]) >= 0


# --- formats libsndfile does not read (issue 21.13) ---------------------------------------

M4A_HEAD = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isomiso2" + bytes(200)


@pytest.mark.parametrize("name", ["call.m4a", "call.bin"])
def test_an_m4a_file_is_refused_with_the_ffmpeg_command(tmp_path, linear_model, name, capsys):
    """Found by its first bytes ('ftyp' at byte 4) whatever its name."""
    path = tmp_path / name
    path.write_bytes(M4A_HEAD)
    assert main(["--input", str(path), "--no-ui", "--model", str(linear_model)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "M4A/AAC" in err[0], err
    assert f"convert with ffmpeg, e.g. ffmpeg -i {path} -f wav - | ser-live --input -" in err[0]


def test_an_m4a_by_its_name_only_gets_the_hint_too(tmp_path, linear_model, capsys):
    path = tmp_path / "voice memo.m4a"
    path.write_bytes(b"\x13\x37not a header I know" * 10)
    assert main(["--input", str(path), "--no-ui", "--model", str(linear_model)]) == 2
    err = capsys.readouterr().err
    assert "ffmpeg -i '" in err and "voice memo.m4a' -f wav -" in err  # quoted for the shell


def test_an_m4a_on_stdin_is_refused_with_the_ffmpeg_command(linear_model):
    result = subprocess.run(
        [sys.executable, "-m", "streamer.live.cli", "--input", "-", "--no-ui"]
        + ["--model", str(linear_model)],
        input=M4A_HEAD,
        capture_output=True,
        timeout=60,
    )
    err = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(err) == 1, err
    assert "cannot read stdin: M4A/AAC (MP4)" in err[0] and "ffmpeg -i call.m4a -f wav -" in err[0]

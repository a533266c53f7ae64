"""Noise, hum and music replayed through ser-live with the shipped model: no emotion rows, and
the summary says what was heard instead."""

import csv

import numpy as np
import pytest
import soundfile as sf

from streamer.live.cli import main
from training.data import nonspeech


@pytest.mark.parametrize("name", ["white noise", "chord progression", "mains hum"])
def test_non_speech_file_gives_no_rows(tmp_path, capsys, name):
    signal = nonspeech.signals(8.0)[name]
    quiet = np.zeros(8000, np.float32)
    path = tmp_path / "noise.wav"
    sf.write(path, np.concatenate([quiet, signal, quiet]), 16000, subtype="PCM_16")
    out = tmp_path / "noise.csv"
    assert main(["--input", str(path), "--no-ui", "--csv", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    err = capsys.readouterr().err
    assert rows == []
    assert "0 utterances" in err
    if name == "white noise":  # the VAD cuts it into segments: the speech gate refuses them
        assert "non-speech segment" in err and "not classified" in err

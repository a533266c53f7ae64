"""Samples no recorder makes are silence at the source, counted (issue 22.11)."""

import threading

import numpy as np
import soundfile as sf

from streamer.sources import SourceStats
from streamer.sources.bad_samples import LIMIT, replace_bad_samples
from streamer.sources.file import FileSource


def test_non_finite_and_absurd_samples_become_silence_and_are_counted():
    block = np.array([[0.5, np.nan], [np.inf, -0.25], [-np.inf, 2.0], [LIMIT * 1.01, -LIMIT]])
    block = block.astype(np.float32)
    stats = SourceStats()
    out = replace_bad_samples(block, stats)
    assert stats.bad_samples == 4
    assert out.dtype == np.float32
    assert out.tolist() == [[0.5, 0.0], [0.0, -0.25], [0.0, 2.0], [0.0, -LIMIT]]


def test_a_sound_block_is_passed_on_as_it_is():
    block = np.linspace(-1, 1, 20, dtype=np.float32).reshape(10, 2)
    stats = SourceStats()
    assert replace_bad_samples(block, stats) is block
    assert stats.bad_samples == 0


def test_a_float_file_with_nan_reads_finite_and_counts_them(tmp_path):
    audio = np.zeros(16000, np.float32)
    audio[[10, 500, 9000]] = [np.nan, np.inf, 1e30]
    path = tmp_path / "bad.wav"
    sf.write(path, audio, 16000, subtype="FLOAT")
    source = FileSource(path, 30, realtime=False)
    blocks = list(source.blocks(threading.Event()))
    source.close()
    assert all(np.isfinite(b).all() for b in blocks)
    assert source.stats.bad_samples == 3

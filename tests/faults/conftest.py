"""The fault suite (issue 22, and the batch items of issue 21): every case runs the real commands
on generated audio, on this machine only, each bounded by a timeout.

Shared here: the espeak-ng demo call (7 utterances); the helpers that run the commands are in
tests/faults/commands.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf


@pytest.fixture(scope="session")
def demo_call(tmp_path_factory) -> Path:
    """The demo call (espeak-ng, 22.05 kHz, 37 s, 7 utterances), as 32-bit float."""
    from tools import require_tool

    from streamer.live.demo import make_sample

    require_tool("espeak-ng")
    folder = tmp_path_factory.mktemp("demo")
    pcm = folder / "pcm.wav"
    make_sample(pcm)
    audio, rate = sf.read(pcm, dtype="float32")
    path = folder / "demo.wav"
    sf.write(path, audio, rate, subtype="FLOAT")
    return path



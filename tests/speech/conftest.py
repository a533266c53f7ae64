"""Spoken test words from espeak-ng, shared by the pause and foreground tests (no corpus)."""

import sys
from pathlib import Path

import pytest
from synth import spoken

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pause_calls import Word, as_word  # noqa: E402

WORDS = ("hello", "yesterday", "absolutely", "wonderful", "tomorrow", "seriously", "goodbye",
         "terrible", "honestly", "amazing")
VOICES = ("en-us", "en-gb", "en-us+f3")


@pytest.fixture(scope="session")
def words() -> list[Word]:
    """Ten single words in three voices at four speaking rates."""
    return [as_word(spoken(w, 140 + 15 * (i % 4), VOICES[i % 3])) for i, w in enumerate(WORDS)]

"""Output names that never collide (issue 22.4) and paths shown safely (issue 22.8)."""

import os
from pathlib import PurePosixPath as P

from streamer.batch.names import Namespace, shown


def test_names_that_are_not_utf8_or_hold_control_characters_are_shown_escaped():
    assert shown(os.fsdecode(b"/calls/caf\xe9.wav")) == "/calls/caf\\xe9.wav"
    assert shown("/calls/two\nlines.wav") == "/calls/two\\x0alines.wav"
    assert shown("/calls/ünïcode.wav") == "/calls/ünïcode.wav"
    shown(os.fsdecode(b"\xff\xfe")).encode("utf-8")  # always writable as UTF-8


def test_an_input_named_like_the_summary_gets_another_name():
    space = Namespace()
    space.reserve("calls.csv", "index.html", "calls.sqlite")
    assert space.claim(P("calls")) == P("calls~2")
    assert space.claim(P("calls.wav")) == P("calls.wav")  # calls.wav.csv is free


def test_equal_names_become_unique_without_regard_to_case():
    space = Namespace()
    assert space.claim(P("x.wav")) == P("x.wav")
    assert space.claim(P("x.wav")) == P("x~2.wav")
    assert space.claim(P("X.WAV")) == P("X~3.WAV")
    assert space.claim(P("sub/x.wav")) == P("sub/x.wav")


def test_a_file_and_a_folder_of_one_name_do_not_collide():
    space = Namespace()
    assert space.claim(P("a.csv/x.wav")) == P("a.csv/x.wav")  # needs the folder a.csv
    assert space.claim(P("a")) == P("a~2")  # a.csv would be that folder
    other = Namespace()
    assert other.claim(P("a")) == P("a")  # writes the file a.csv
    assert other.claim(P("a.csv/x.wav")) == P("a~2.csv/x.wav")


def test_every_kind_of_output_counts():
    space = Namespace()
    space.claim(P("a"))  # a.csv, a.jsonl, a.report.png, a.report.html
    assert not space.free(P("a"))
    assert space.free(P("a.report"))  # a.report.csv ... do not meet a.report.html

"""CSV formula injection (issue 22.18): text a spreadsheet would run is written with a leading
apostrophe, numbers stay numbers, in every CSV the project writes."""

import pytest

from streamer.sinks.csv_log import _csv_line
from streamer.sinks.spreadsheet import safe_cell, safe_cells


@pytest.mark.parametrize(
    "text",
    ["=cmd|' /C calc'!A1", "+1+1", "-2+3+cmd|calc!A0", "@SUM(1,2)", "\t=1", "\r=1"],
)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


def test_other_text_and_every_number_stay_as_they_are():
    values = ["call.wav", "a=b", "", -0.25, 0, 3.5, None, "2026-11-01T10:00:00+00:00"]
    assert safe_cells(values) == values


def test_the_timeline_writer_neutralises_its_cells():
    assert _csv_line(["=1+2", -0.5, "neutral"]) == "'=1+2,-0.5,neutral\r\n"

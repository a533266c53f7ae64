"""Every flag of every command explains itself (issue 21.9): help text on each, a unit or a kind
in the name of each value, a default said once and never "(default: None)"."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from streamer.batch.cli import build_parser as batch_parser
from streamer.live.cli import build_parser as live_parser
from streamer.report.cli import build_parser as report_parser
from streamer.serve.cli import build_parser as serve_parser
from streamer.serve.client import build_parser as client_parser

PARSERS = {"ser-live": live_parser, "ser-batch": batch_parser, "ser-report": report_parser,
           "ser-serve": serve_parser, "ser-client": client_parser}
# What a numeric value's metavar may be: its unit, a count, a fraction.
UNITS = {"HZ", "MS", "SECONDS", "N", "CONFIDENCE"}
# Unit words a numeric flag's help text must use (beside its metavar).
UNIT_WORDS = {
    "HZ": r"\bHz\b",
    "MS": r"\bms\b",
    "SECONDS": r"\bseconds?\b|\blong\b",
    "N": r".",
    "CONFIDENCE": r"0\.\.1",
}


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    skip = (argparse._HelpAction,)
    return [a for a in parser._actions if a.option_strings and not isinstance(a, skip)]


def expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help text of one flag as --help prints it (defaults filled in)."""
    formatter = parser._get_formatter()
    return formatter._expand_help(action) if action.help else ""


@pytest.mark.parametrize("command", list(PARSERS))
def test_every_flag_has_help_and_a_meaningful_value_name(command):
    parser = PARSERS[command]()
    for action in options(parser):
        name = action.option_strings[-1]
        assert action.help and len(action.help) > 15, f"{command} {name}: no real help"
        if action.nargs == 0:
            continue  # a switch takes no value
        if action.choices:
            continue  # the choices name the values
        assert action.metavar is not None, f"{command} {name}: shows {action.dest.upper()}"
        if action.type in (int, float):
            assert action.metavar in UNITS, f"{command} {name}: {action.metavar} names no unit"
            word = UNIT_WORDS[action.metavar]
            assert re.search(word, action.help), f"{command} {name}: help says no unit"


@pytest.mark.parametrize("command", list(PARSERS))
def test_a_default_is_said_once_and_never_as_none(command):
    parser = PARSERS[command]()
    for action in options(parser):
        text = expanded_help(parser, action)
        assert "(default: None)" not in text, f"{command} {action.option_strings}: {text}"
        assert len(re.findall(r"default\b[^:]*:", text)) <= 1, f"{command} {action.option_strings}"


def test_segmenting_flags_name_their_config_key_and_its_value():
    parser = live_parser()
    helps = {a.option_strings[-1]: expanded_help(parser, a) for a in options(parser)}
    assert "segmenter.hangover_ms = 300" in helps["--hangover-ms"]
    assert "segmenter.max_utterance_s = 8.0" in helps["--max-utterance-s"]
    assert "vad.aggressiveness = 2" in helps["--vad-aggressiveness"]


MODULES = {
    "ser-live": "streamer.live.cli",
    "ser-batch": "streamer.batch.cli",
    "ser-report": "streamer.report.cli",
    "ser-serve": "streamer.serve.cli",
    "ser-client": "streamer.serve.client",
}


@pytest.mark.parametrize("command", list(MODULES))
def test_help_prints_without_none_anywhere(command):
    module = MODULES[command]
    runner = f"import sys; from {module} import build_parser; build_parser().parse_args(['-h'])"
    result = subprocess.run(
        [sys.executable, "-c", runner], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "usage:" in result.stdout
    assert "None" not in result.stdout

"""CSV cells a spreadsheet cannot run: the one guard against CSV formula injection.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (``=cmd|' /C calc'!A1`` runs a program in old Excel), and a leading tab or carriage
return hides such a start. File names, error messages and labels can come from anyone, so every
CSV ser-live writes (the timelines of ser-live and ser-batch, ser-batch's calls.csv) passes its
text cells through :func:`safe_cells`: a text cell starting with one of those characters gets a
leading apostrophe, as OWASP recommends ("CSV Injection"); spreadsheets show the text as it was
and a reader of the file sees the apostrophe. Numbers stay numbers (``-0.25`` is written as a
number, not as text), so only text ever changes.
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value``, or for text that a spreadsheet would take as a formula, ``'`` + the text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_cells(values: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in values]

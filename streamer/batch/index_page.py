"""DIR/index.html: one page linking every call's report and timeline, when reports are made.

A table of the recordings the folder holds (from the run state, as calls.csv): status, length,
utterances, the label shown for the most talk time, the dominant negative emotion, and links.
Self-contained (styles inline, nothing fetched); every name is escaped for HTML and every link
percent-encoded from the file's own bytes, so a hostile file name is text, never markup.
"""

from __future__ import annotations

import contextlib
import json
import os
from html import escape
from pathlib import Path
from urllib.parse import quote

from streamer.batch.state import RunState
from streamer.emotions import colour_of
from streamer.errors import LogWriteError

INDEX_HTML = "index.html"

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #2b2f36;
       margin: 2em auto; max-width: 1500px; padding: 0 1em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .25em .8em; text-align: left; border-bottom: 1px solid #eceef1; }
th { color: #8a9099; font-weight: 600; }
td.num { text-align: right; }
td.error, td.retry, td.truncated { color: #b3261e; }
span.chip { display: inline-block; width: .9em; height: .9em; border-radius: 2px;
            margin-right: .4em; vertical-align: -.1em; }
"""


def _link(target: str, text: str) -> str:
    if not target:
        return ""
    href = quote(os.fsencode(target))  # the file's own bytes, percent-encoded
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def _label(label: str | None, share: float | None) -> str:
    if not label:
        return ""
    chip = f'<span class="chip" style="background:{colour_of(label)}"></span>'
    return f"{chip}{escape(label)}" + (f" {share:.0%}" if share is not None else "")


def _row(recording: dict, summaries: list[tuple[dict, dict[str, float]]]) -> str:
    outputs = json.loads(recording["outputs"])
    report = next((o for o in outputs if ".report." in o), "")
    whole, shares = next(((s, sh) for s, sh in summaries if s["channel"] == 0), ({}, {}))
    top = max(shares.items(), key=lambda item: item[1]) if shares else (None, None)
    status = recording["status"]
    minutes = f"{recording['duration_s'] / 60:.1f}" if recording["duration_s"] else ""
    cells = [
        f"<td>{escape(recording['path'])}</td>",
        f'<td class="{escape(status)}">{escape(status)}'
        + (f": {escape(recording['error'] or recording['note'])}" if status != "ok" else "")
        + "</td>",
        f'<td class="num">{minutes}</td>',
        f'<td class="num">{whole.get("utterances") or ""}</td>',
        f"<td>{_label(*top)}</td>",
        f"<td>{_label(whole.get('dominant_negative'), whole.get('dominant_negative_share'))}</td>",
        f"<td>{_link(report, 'report')} {_link(outputs[0] if outputs else '', 'timeline')}</td>",
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def write_index(state: RunState, folder: Path) -> Path:
    """Write DIR/index.html whole (temporary file + rename)."""
    rows = [_row(recording, summaries) for recording, summaries in state.rows()]
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8"><title>Calls</title>',
            f"<style>{STYLE}</style></head><body><h1>Calls</h1>",
            f"<p>{len(rows)} recordings; the table is calls.csv's, columns in docs/batch.md.</p>",
            "<table><tr><th>recording</th><th>status</th><th>minutes</th><th>utterances</th>"
            "<th>shown most</th><th>dominant negative</th><th>files</th></tr>",
            *rows,
            "</table></body></html>",
        ]
    )
    path = folder / INDEX_HTML
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        temp.write_text(page, encoding="utf-8", errors="backslashreplace")
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise LogWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path

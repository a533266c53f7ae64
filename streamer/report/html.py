"""The report as one self-contained HTML file: the picture inlined as base64 PNG, styles inline,
nothing fetched from the network, so it can be mailed or archived as it is."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from streamer.emotions import colour_of, shown_detail, shown_label
from streamer.live.widgets import clock
from streamer.report.summary import CallSummary, Side
from streamer.report.timeline import Timeline

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #2b2f36;
       margin: 2em auto; max-width: 1500px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
p.source { color: #8a9099; margin-top: 0; }
ul.summary { font-size: 1.05em; }
img { width: 100%; height: auto; border: 1px solid #e3e6ea; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
th, td { padding: .25em .8em; text-align: left; border-bottom: 1px solid #eceef1; }
th { color: #8a9099; font-weight: 600; }
td.num { text-align: right; }
span.chip { display: inline-block; width: .9em; height: .9em; border-radius: 2px;
            margin-right: .4em; vertical-align: -.1em; }
"""


def _chip(label: str) -> str:
    return f'<span class="chip" style="background:{colour_of(label)}"></span>{escape(label)}'


def render_html(
    title: str,
    sources: list[str],
    summary: CallSummary,
    timeline: Timeline,
    png: bytes,
    uncertain_below: float,
    sides: Sequence[Side] = (),
) -> str:
    """``sides``: a call analysed channel by channel; each side gets its summary line, a column
    in the talk-time table, and the utterance table names the side of every row."""
    image = base64.b64encode(png).decode("ascii")
    lines = summary.lines() + [side.summary.side_line(side.name) for side in sides]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="source">{" · ".join(escape(s) for s in sources)}</p>',
        '<ul class="summary">' + "".join(f"<li>{escape(line)}</li>" for line in lines),
        "</ul>",
        f'<img alt="the call over time: emotion bands, mix, confidence, mood" '
        f'src="data:image/png;base64,{image}">',
    ]
    if summary.shares and sides:
        names = "".join(f"<th>{escape(side.name)}</th>" for side in sides)
        parts.append(
            f"<h2>Talk time per emotion</h2><table><tr><th>emotion</th><th>share</th>{names}</tr>"
        )
        for label, share in summary.shares:
            each = "".join(
                f'<td class="num">{dict(side.summary.shares).get(label, 0.0):.0%}</td>'
                for side in sides
            )
            parts.append(f'<tr><td>{_chip(label)}</td><td class="num">{share:.0%}</td>{each}</tr>')
        parts.append("</table>")
    elif summary.shares:
        parts.append("<h2>Talk time per emotion</h2><table><tr><th>emotion</th><th>share</th></tr>")
        parts += [
            f'<tr><td>{_chip(label)}</td><td class="num">{share:.0%}</td></tr>'
            for label, share in summary.shares
        ]
        parts.append("</table>")
    if timeline.predictions:
        parts += _utterance_table(timeline, uncertain_below, sides)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _utterance_table(
    timeline: Timeline, uncertain_below: float, sides: Sequence[Side]
) -> list[str]:
    """One row per utterance: when, whose (with sides), what was shown, in the wording of the
    live view and the logs (``uncertain (leaning sad 38 %)``), the arg-max and every
    probability."""
    header = "".join(f"<th>p {escape(label)}</th>" for label in timeline.labels)
    side_of = {id(p): side.name for side in sides for p in side.predictions}
    parts = [
        "<h2>Utterances</h2><table><tr>"
        + ("<th>side</th>" if sides else "")
        + "<th>start</th><th>end</th><th>shown as</th>"
        f"<th>arg-max</th><th>confidence</th>{header}</tr>"
    ]
    for p in timeline.predictions:
        probs = "".join(f'<td class="num">{x:.2f}</td>' for x in p.probabilities)
        side = f"<td>{escape(side_of.get(id(p), ''))}</td>" if sides else ""
        parts.append(
            f"<tr>{side}"
            f'<td class="num">{clock(p.start_s, True)}</td>'
            f'<td class="num">{clock(p.end_s, True)}</td>'
            f"<td>{_chip(shown_label(p, uncertain_below))} "
            f"{escape(shown_detail(p, uncertain_below))}</td><td>{escape(p.label)}</td>"
            f'<td class="num">{p.confidence:.0%}</td>{probs}</tr>'
        )
    parts.append("</table>")
    return parts

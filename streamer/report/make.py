"""Writing one report: what ser-report and ser-batch --report both call.

Kept out of the CLI module so that no command imports another command's CLI.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.settings import load_settings

if TYPE_CHECKING:
    from streamer.report.audio import AudioView
    from streamer.report.summary import CallSummary, Side
    from streamer.report.timeline import Timeline
    from streamer.settings import UiSettings

IMAGE_SUFFIXES = (".png", ".svg", ".pdf")
HTML_SUFFIXES = (".html", ".htm")


@dataclasses.dataclass(frozen=True)
class ReportRequest:
    timeline: Path
    output: Path
    audio: Path | None = None
    title: str | None = None
    config: Path | None = None
    uncertain_below: float | None = None  # None: the threshold ser-live would have shown
    model: Path | None = None  # the model that made the timeline, for its threshold


def shown_threshold(request: ReportRequest) -> UiSettings:
    """The [ui] settings, with the uncertain threshold ser-live would have shown the timeline
    with: the request's, else the model's own (ser-live's default), else ``ui.uncertain_below``."""
    model = request.model
    overrides = {
        "ui": {"uncertain_below": request.uncertain_below},
        "model": {"path": model and str(model)},
    }
    settings = load_settings(request.config, overrides)
    ui = settings.ui
    if request.uncertain_below is not None or not ui.uncertain_from_model:
        return ui
    from streamer.emotions import uncertain_threshold
    from streamer.errors import ModelError
    from streamer.model.backend import read_metadata

    try:
        chosen = read_metadata(settings.model.path)[1].get("uncertain_below")
    except ModelError:
        if model is not None:  # asked for by name: say it cannot be used
            raise
        chosen = None  # the default model is missing: the setting it is
    shown = uncertain_threshold(
        ui.uncertain_below, True, float(chosen) if chosen is not None else None
    )
    return dataclasses.replace(ui, uncertain_below=shown)


def write_report(request: ReportRequest) -> str:
    """Write the report; returns a one-line description of what was written."""
    from streamer.report.timeline import ReportError, read_timeline  # numpy: not for --version

    suffix = request.output.suffix.lower()
    if suffix not in IMAGE_SUFFIXES + HTML_SUFFIXES:
        raise ReportError(f"{request.output}: unknown report type; use .png, .svg, .pdf or .html")
    ui = shown_threshold(request)
    timeline = read_timeline(request.timeline)
    for warning in timeline.warnings:
        print(f"ser-report: warning: {warning}", file=sys.stderr)

    from streamer.report.audio import read_audio  # after the cheap checks
    from streamer.report.summary import sides, summarise

    audio = read_audio(request.audio) if request.audio is not None else None
    duration = audio.duration_s if audio is not None else timeline.end_s
    if audio is not None and timeline.end_s > audio.duration_s + 0.5:
        print(
            f"ser-report: warning: the timeline runs to {timeline.end_s:.1f} s but "
            f"{request.audio} lasts {audio.duration_s:.1f} s; is it the same call?",
            file=sys.stderr,
        )
        duration = timeline.end_s
    summary = summarise(timeline.predictions, duration, ui.uncertain_below, audio is not None)
    audio_channels = audio.channels if audio is not None else None
    each = sides(timeline, duration, ui.uncertain_below, audio is not None, audio_channels)
    _draw(request, ui, timeline, summary, audio, each)
    names = [side.name for side in each]
    per_side = f" on {', '.join(names[:-1])} and {names[-1]}" if names else ""
    return f"wrote {request.output} ({summary.utterances} utterances{per_side}, {duration:.1f} s)"


def _draw(
    request: ReportRequest,
    ui: UiSettings,
    timeline: Timeline,
    summary: CallSummary,
    audio: AudioView | None,
    each: list[Side],
) -> None:
    """Render the figure and save it as a picture or inside a self-contained page."""
    from streamer.report.figure import build_figure

    suffix = request.output.suffix.lower()
    title = request.title or f"Call report · {request.timeline.name}"
    figure = build_figure(timeline, summary, audio, ui.uncertain_below, ui.trend_alpha, title, each)
    # No "Software" stamp: the picture carries nothing but the report.
    metadata = {"Software": None} if suffix == ".png" or suffix in HTML_SUFFIXES else None
    try:
        if suffix in HTML_SUFFIXES:
            from streamer.report.html import render_html

            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", metadata=metadata)
            sources = [str(request.timeline)] + ([str(request.audio)] if request.audio else [])
            page = render_html(
                title, sources, summary, timeline, buffer.getvalue(), ui.uncertain_below, each
            )
            # a file name need not be UTF-8: its odd bytes are shown escaped
            request.output.write_text(page, encoding="utf-8", errors="backslashreplace")
        else:
            figure.savefig(request.output, metadata=metadata)
    except OSError as exc:
        raise OSError(f"cannot write report {request.output}: {exc.strerror}") from None

"""One recording through the ser-live pipeline into its outputs: the unit of work a local worker
process or a Dask worker runs.

Outputs are written under hidden temporary names (unique to the run) and renamed when the
recording is complete, and only while the run still holds the output folder
(:func:`streamer.batch.lock.still_ours`), so an output that exists is whole and of one run.
``process`` never raises for a problem with one recording; its result says what happened:

- ``ok``; ``truncated``: the audio ended before its header said (rows before the cut kept);
- ``error`` (cause ``input``): the recording itself cannot be used (not audio, empty, a decoder
  error); it stays failed until the file changes or ``--retry-failed``;
- ``retry`` (cause ``environment``): something around it failed (a full disk, a killed worker,
  a lost scheduler); the next run tries it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamer.batch.inputs import Recording
from streamer.batch.lock import still_ours
from streamer.batch.names import shown
from streamer.cli_common import one_line
from streamer.settings import Settings

# The pipeline's modules (numpy, scipy, onnxruntime) are imported where a recording is run: the
# ser-batch process then starts its workers before paying for them itself.
if TYPE_CHECKING:
    import numpy as np

    from streamer.batch.summary import CallSummary, ChannelSummary
    from streamer.engine.run import RunSummary
    from streamer.model.classifier import Classifier
    from streamer.sources import Source

OK, TRUNCATED, ERROR, RETRY = "ok", "truncated", "error", "retry"
INPUT, ENVIRONMENT = "input", "environment"  # whose failure it was
DONE = (OK, TRUNCATED)  # a result with outputs

Progress = Callable[[float], None]  # audio seconds of the recording read so far


@dataclass(frozen=True)
class JobSpec:
    """What every recording of a run shares; pickled to the workers."""

    settings: Settings
    out_dir: Path
    jsonl: bool = False
    report: str | None = None  # "png" or "html"
    config: Path | None = None  # the --config file, for the report's [ui] settings
    fingerprint: str = ""  # of the model and the settings that shape the rows
    view_fingerprint: str = ""  # of what shapes the summary and report (threshold, [ui])
    channels: str | int = "mix"  # as ser-live's --channel N / --channels each
    uncertain_below: float | None = None  # the threshold rows are shown by (None: the model's)
    run_id: str = ""  # the run holding the output folder

    def outputs(self, recording: Recording) -> list[Path]:
        base = self.out_dir / recording.name
        paths = [base.with_name(base.name + ".csv")]
        if self.jsonl:
            paths.append(base.with_name(base.name + ".jsonl"))
        if self.report:
            paths.append(base.with_name(f"{base.name}.report.{self.report}"))
        return paths


@dataclass(frozen=True)
class FileState:
    """Size and modification time of an input: a rerun redoes a recording when they change."""

    size: int = -1
    mtime_ns: int = -1

    @classmethod
    def of(cls, path: Path) -> FileState:
        try:
            stat = path.stat()
        except OSError:
            return cls()
        return cls(stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class CallResult:
    path: str
    status: str
    error: str = ""
    cause: str = ""  # INPUT or ENVIRONMENT for a failure
    note: str = ""  # e.g. where a truncated file ends, bad samples replaced
    duration_s: float = 0.0
    bad_samples: int = 0
    uncertain_below: float | None = None
    summaries: tuple[ChannelSummary, ...] = ()  # channel 0 first, then each channel
    processing_s: float = 0.0
    outputs: tuple[str, ...] = ()  # relative to the output folder (file system text): CSV first
    state: FileState = FileState()
    fingerprint: str = ""
    view_fingerprint: str = ""
    channels: str = "mix"

    @property
    def output(self) -> str:
        return self.outputs[0] if self.outputs else ""

    @property
    def report(self) -> str:
        return next((o for o in self.outputs if ".report." in o), "")


def _shaping(settings: Settings, channels: str | int) -> dict:
    shaping: dict = {k: asdict(getattr(settings, k)) for k in ("audio", "vad", "segmenter")}
    if channels != "mix":  # (the downmix keeps the fingerprints of earlier runs)
        shaping["channels"] = channels
    return shaping


def row_settings(settings: Settings, model_path: Path, channels: str | int = "mix") -> dict:
    """Everything that shapes a recording's rows, as plain data (kept in the run state, so a
    refusal can say what differs)."""
    shaping = _shaping(settings, channels)
    shaping.setdefault("channels", "mix")
    return {"model": str(model_path), **shaping}


def fingerprint(settings: Settings, model_path: Path, channels: str | int = "mix") -> str:
    """Digest of the model file and of the settings that change rows: outputs made with another
    model, other segmenting or another channel choice are not current."""
    digest = hashlib.sha256()
    with open(model_path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(json.dumps(_shaping(settings, channels), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def view_settings(settings: Settings, uncertain_below: float, report: str | None) -> dict:
    """What shapes calls.csv's summary and the report beyond the rows: the uncertain threshold
    rows are shown by, and the [ui] keys ser-report reads (when reports are drawn)."""
    view: dict = {"uncertain_below": round(uncertain_below, 6)}
    if report:
        view["report"] = {"trend_alpha": settings.ui.trend_alpha}
    return view


def view_fingerprint(view: dict) -> str:
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:16]


def temporary(path: Path, run_id: str = "") -> Path:
    """A hidden name beside ``path``, unique to the run, with the same suffix (the report picks
    its format by it)."""
    tag = f".{run_id}" if run_id else ""
    return path.with_name(f".{path.name}{tag}.part{path.suffix}")


def process(
    recording: Recording, spec: JobSpec, model: Classifier, progress: Progress | None = None
) -> CallResult:
    """Run one recording; never raises for a problem with this recording."""
    started = time.perf_counter()
    finals = spec.outputs(recording)
    temps = [temporary(p, spec.run_id) for p in finals]
    common = {
        "path": recording.key,
        "state": FileState.of(recording.path),
        "fingerprint": spec.fingerprint,
        "view_fingerprint": spec.view_fingerprint,
        "channels": str(spec.channels),
    }
    try:
        outcome = _write_outputs(recording, spec, model, temps, finals, progress)
    except Exception as exc:  # noqa: BLE001 (one recording's failure must not stop the run)
        _remove(temps)
        cause = INPUT if _the_inputs(exc) else ENVIRONMENT
        return CallResult(
            status=ERROR if cause == INPUT else RETRY,
            error=one_line(exc),
            cause=cause,
            processing_s=time.perf_counter() - started,
            **common,
        )
    finally:
        _remove(temps)  # whatever was not renamed into place
    summary, run_summary, ending = outcome
    truncated = ending is not None and run_summary.ended_by == "truncated input"
    status = TRUNCATED if truncated else OK if ending is None else ERROR
    notes = [one_line(ending)] if truncated else []
    if run_summary.bad_samples:
        notes.append(
            f"{run_summary.bad_samples} bad samples (NaN, infinite or beyond +60 dBFS) "
            "replaced by silence"
        )
    return CallResult(
        status=status,
        error=one_line(ending) if status == ERROR else "",
        cause=INPUT if status == ERROR else "",
        note="; ".join(notes),
        duration_s=run_summary.audio_s,
        bad_samples=run_summary.bad_samples,
        uncertain_below=summary.uncertain_below,
        summaries=summary.summaries(),
        processing_s=time.perf_counter() - started,
        outputs=tuple(f.relative_to(spec.out_dir).as_posix() for f in finals),
        **common,
    )


def _the_inputs(exc: BaseException) -> bool:
    """Whether a failure is the recording's own (it would fail again on the same bytes)."""
    from streamer.errors import SourceError

    return isinstance(exc, SourceError)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


class Superseded(RuntimeError):
    """Another run has taken the output folder since this one started: its outputs stand."""


def _write_outputs(
    recording: Recording,
    spec: JobSpec,
    model: Classifier,
    temps: list[Path],
    finals: list[Path],
    progress: Progress | None,
) -> tuple[CallSummary, RunSummary, Exception | None]:
    """Replay into the temporary files and rename them into place, then draw the report from
    the finished CSV (which the page names as its source) and rename it too. A failing input
    keeps the rows read before it failed (the third item says why it ended)."""
    outcome = _replay(recording, spec, model, temps, progress)
    logs = len(finals) - (1 if spec.report else 0)
    _rename(spec, temps[:logs], finals[:logs])
    if spec.report:
        _report(recording, spec, outcome[0].uncertain_below, finals[0], temps[-1])
        _rename(spec, temps[-1:], finals[-1:])
    return outcome


def _rename(spec: JobSpec, temps: list[Path], finals: list[Path]) -> None:
    if not still_ours(spec.out_dir, spec.run_id):
        raise Superseded(f"another ser-batch run has taken {spec.out_dir}; its outputs stand")
    for temp, final in zip(temps, finals, strict=True):
        os.replace(temp, final)


class _Counting:
    """A source that reports how far it has read (at most every ``every_s`` seconds)."""

    def __init__(self, source: Source, progress: Progress, every_s: float = 1.0) -> None:
        self._source = source
        self._progress = progress
        self._every_s = every_s

    def __getattr__(self, name: str) -> Any:  # everything else is the source's
        return getattr(self._source, name)

    def blocks(self, stop: threading.Event) -> Iterator[np.ndarray]:
        frames, last = 0, time.monotonic()
        for block in self._source.blocks(stop):
            frames += len(block)
            if time.monotonic() - last >= self._every_s:
                last = time.monotonic()
                self._progress(frames / max(1, self._source.rate_hz))
            yield block


def _replay(
    recording: Recording,
    spec: JobSpec,
    model: Classifier,
    temps: list[Path],
    progress: Progress | None,
) -> tuple[CallSummary, RunSummary, Exception | None]:
    """The ser-live --fast --csv path, into the temporary outputs."""
    from streamer.batch.summary import CallSummary
    from streamer.engine.build import stream_for
    from streamer.engine.run import InputLost, run
    from streamer.sinks.csv_log import CsvSink
    from streamer.sinks.jsonl_log import JsonlSink
    from streamer.sources.recording import open_recording

    settings = spec.settings
    source = open_recording(recording.path, settings.audio.block_ms, False, spec.channels)
    sinks: list = []
    by_channel = spec.channels != "mix"
    try:
        # As in ser-live: provisional results only for an output that shows them (JSON lines).
        stream = stream_for(source, model, settings, show_partials=spec.jsonl)
        if spec.uncertain_below is not None:
            stream.uncertain_below = spec.uncertain_below
        summary = CallSummary(
            stream.uncertain_below, source.streams if spec.channels == "each" else 0
        )
        sinks.append(summary)
        temps[0].parent.mkdir(parents=True, exist_ok=True)
        shown = stream.uncertain_below  # the `shown` column, as in ser-live's logs
        sinks.append(CsvSink(temps[0], model.labels, by_channel, uncertain_below=shown))
        if spec.jsonl:
            sinks.append(JsonlSink(temps[1], model.labels, by_channel, uncertain_below=shown))
        counted = _Counting(source, progress) if progress is not None else source
        try:
            return summary, run(counted, stream, sinks, threading.Event()), None
        except InputLost as lost:  # the rows before the failure are whole: they are kept
            return summary, lost.summary, lost
    finally:
        source.close()
        for sink in sinks:
            sink.close()


def _report(
    recording: Recording, spec: JobSpec, uncertain_below: float, timeline: Path, output: Path
) -> None:
    from streamer.report.make import ReportRequest, write_report  # matplotlib only when asked

    write_report(
        ReportRequest(
            timeline=timeline,
            audio=recording.path,
            output=output,
            title=f"Call report · {shown(recording.name)}",
            config=spec.config,
            uncertain_below=uncertain_below,  # the threshold calls.csv's shares use
            model=spec.settings.model.path,
        )
    )


# One model per worker thread, loaded on its first recording and kept for the next ones.
_loaded = threading.local()


def warm_up() -> None:
    """Import what a recording needs, so a worker is ready when the first one comes."""
    import streamer.engine.emotion_stream  # noqa: F401
    import streamer.sources.recording  # noqa: F401
    from streamer.features.runtime import tune_malloc

    tune_malloc()  # a worker process is ours: see streamer/features/runtime.py


def run_one(recording: Recording, spec: JobSpec, progress: Progress | None = None) -> CallResult:
    """The task shipped to workers (local processes or Dask): loads the model once per worker."""
    from streamer.engine.build import load_model

    key = (str(spec.settings.model.path), spec.fingerprint)
    if getattr(_loaded, "key", None) != key:
        _loaded.model = load_model(spec.settings)
        _loaded.key = key
    return process(recording, spec, _loaded.model, progress)


__all__ = [
    "DONE",
    "ENVIRONMENT",
    "ERROR",
    "INPUT",
    "OK",
    "RETRY",
    "TRUNCATED",
    "CallResult",
    "FileState",
    "JobSpec",
]


_TEMPORARY = re.compile(
    r"^\..+(\.csv|\.jsonl|\.report\.png|\.report\.html)(\.[0-9a-f]{8})?\.part"
    r"(\.csv|\.jsonl|\.png|\.html)$"
)


def sweep_temporaries(out_dir: Path) -> int:
    """Remove temporary outputs that runs killed before they finished left behind (only names
    :func:`temporary` makes); call it while holding the folder. Returns how many."""
    removed = 0
    for root, _dirs, files in os.walk(out_dir):
        for name in files:
            if name.startswith(".") and _TEMPORARY.match(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))
                    removed += 1
    return removed

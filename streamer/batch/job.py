"""One recording through the ser-live pipeline into its outputs: the unit of work a local worker
process or a Dask worker runs.

Outputs are written under temporary names and renamed when the recording is complete, so an
output that exists is whole. Every failure of one recording (not audio, truncated, a decoder
error, a full disk) becomes a result with status ``error`` and a one-line reason.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.batch.inputs import Recording
from streamer.cli_common import one_line
from streamer.settings import Settings

# The pipeline's modules (numpy, scipy, onnxruntime) are imported where a recording is run: the
# ser-batch process then starts its workers before paying for them itself.
if TYPE_CHECKING:
    from streamer.engine.run import RunSummary
    from streamer.model.classifier import Classifier
    from streamer.sinks.totals import Totals

OK, ERROR = "ok", "error"


@dataclass(frozen=True)
class JobSpec:
    """What every recording of a run shares; pickled to the workers."""

    settings: Settings
    out_dir: Path
    jsonl: bool = False
    report: str | None = None  # "png" or "html"
    config: Path | None = None  # the --config file, for the report's [ui] settings
    fingerprint: str = ""  # of the model and the settings that shape the rows
    channels: str | int = "mix"  # as ser-live's --channel N / --channels each

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
    duration_s: float = 0.0
    speech_s: float = 0.0
    utterances: int = 0
    shares: dict[str, float] = field(default_factory=dict)  # talk time per arg-max label
    valence: float | None = None
    arousal: float | None = None
    peak_start_s: float | None = None  # the utterance with the highest arousal
    peak_label: str = ""
    peak_arousal: float | None = None
    processing_s: float = 0.0
    output: str = ""  # the CSV, relative to the output folder
    state: FileState = FileState()
    fingerprint: str = ""


def fingerprint(settings: Settings, model_path: Path, channels: str | int = "mix") -> str:
    """Digest of the model file and of the settings that change rows: outputs made with another
    model, other segmenting or another channel choice are not current."""
    digest = hashlib.sha256()
    with open(model_path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    shaping: dict = {k: asdict(getattr(settings, k)) for k in ("audio", "vad", "segmenter")}
    if channels != "mix":  # (the downmix keeps the fingerprints of earlier runs)
        shaping["channels"] = channels
    digest.update(json.dumps(shaping, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def temporary(path: Path) -> Path:
    """A hidden name beside ``path`` with the same suffix (the report picks its format by it)."""
    return path.with_name(f".{path.name}.part{path.suffix}")


def process(recording: Recording, spec: JobSpec, model: Classifier) -> CallResult:
    """Run one recording; never raises for a problem with this recording."""
    started = time.perf_counter()
    state = FileState.of(recording.path)
    finals = spec.outputs(recording)
    temps = [temporary(p) for p in finals]
    common = {"path": recording.key, "state": state, "fingerprint": spec.fingerprint}
    try:
        totals, summary = _replay(recording, spec, model, temps)
        logs = len(finals) - (1 if spec.report else 0)
        for temp, final in zip(temps[:logs], finals[:logs], strict=True):
            os.replace(temp, final)
        if spec.report:  # drawn from the finished CSV, which the page names as its source
            _report(recording, spec, finals[0], temps[-1])
            os.replace(temps[-1], finals[-1])
    except Exception as exc:  # noqa: BLE001 (one recording's failure must not stop the run)
        for temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink()
        return CallResult(
            status=ERROR,
            error=one_line(exc),
            processing_s=time.perf_counter() - started,
            **common,
        )
    mood = totals.mood()
    peak = totals.most_intense
    return CallResult(
        status=OK,
        duration_s=summary.audio_s,
        speech_s=totals.speech_s,
        utterances=summary.utterances,
        shares=totals.shares(),
        valence=None if mood is None else mood[0],
        arousal=None if mood is None else mood[1],
        peak_start_s=None if peak is None else peak.start_s,
        peak_label="" if peak is None else peak.label,
        peak_arousal=None if peak is None else peak.arousal,
        processing_s=time.perf_counter() - started,
        output=finals[0].relative_to(spec.out_dir).as_posix(),
        **common,
    )


def _replay(
    recording: Recording, spec: JobSpec, model: Classifier, temps: list[Path]
) -> tuple[Totals, RunSummary]:
    """The ser-live --fast --csv path, into the temporary outputs."""
    from streamer.engine.build import stream_for
    from streamer.engine.run import run
    from streamer.sinks.csv_log import CsvSink
    from streamer.sinks.jsonl_log import JsonlSink
    from streamer.sinks.totals import Totals
    from streamer.sources.recording import open_recording

    settings = spec.settings
    source = open_recording(recording.path, settings.audio.block_ms, False, spec.channels)
    sinks: list = []
    by_channel = spec.channels != "mix"
    try:
        # As in ser-live: provisional results only for an output that shows them (JSON lines).
        stream = stream_for(source, model, settings, show_partials=spec.jsonl)
        totals = Totals(stream.uncertain_below)
        sinks.append(totals)
        temps[0].parent.mkdir(parents=True, exist_ok=True)
        shown = stream.uncertain_below  # the `shown` column, as in ser-live's logs
        sinks.append(CsvSink(temps[0], model.labels, by_channel, uncertain_below=shown))
        if spec.jsonl:
            sinks.append(JsonlSink(temps[1], model.labels, by_channel, uncertain_below=shown))
        summary = run(source, stream, sinks, threading.Event())
    finally:
        source.close()
        for sink in sinks:
            sink.close()
    return totals, summary


def _report(recording: Recording, spec: JobSpec, timeline: Path, output: Path) -> None:
    from streamer.report.cli import make_report  # matplotlib only when a report is asked for

    make_report(
        argparse.Namespace(
            timeline=timeline,
            audio=recording.path,
            output=output,
            title=f"Call report · {recording.name}",
            config=spec.config,
            uncertain_below=None,
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


def run_one(recording: Recording, spec: JobSpec) -> CallResult:
    """The task shipped to workers (local processes or Dask): loads the model once per worker."""
    from streamer.engine.build import load_model

    key = (str(spec.settings.model.path), spec.fingerprint)
    if getattr(_loaded, "key", None) != key:
        _loaded.model = load_model(spec.settings)
        _loaded.key = key
    return process(recording, spec, _loaded.model)

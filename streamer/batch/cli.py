"""ser-batch: a folder (or list) of recordings through ser-live's pipeline, one CSV each, plus
DIR/calls.csv with a row per recording.

    ser-batch calls/ --out reviewed/                      # every core of this machine
    ser-batch @todo.txt --out reviewed/ --jsonl --report html
    ser-batch /shared/calls --out /shared/reviewed --scheduler tcp://10.0.0.5:8786

Exit codes: 0 every recording done, 1 some failed (their rows say why), 2 bad usage, 130 stopped
by Ctrl-C (finished recordings are on disk; run again to resume).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from streamer.batch.calls import CallsLog
from streamer.batch.cluster import DaskEngine
from streamer.batch.inputs import InputsError, Recording, discover
from streamer.batch.job import ERROR, FileState, JobSpec, fingerprint
from streamer.batch.local import LocalEngine, available_cores
from streamer.cli_common import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandParser,
    add_channel_flags,
    channel_mode,
    report,
    say,
    stop_on_signals,
)
from streamer.errors import ConfigError, SerError
from streamer.settings import Settings, load_settings

# Only light modules above: the workers start before this process imports the pipeline's
# (numpy, scipy, onnxruntime, ~1 s), which it needs only to check the model.

PROG = "ser-batch"
CALLS_CSV = "calls.csv"


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=PROG,
        description="Run many recordings through ser-live's pipeline: a CSV timeline per "
        "recording (the rows `ser-live --input F --no-ui --csv` logs) and DIR/calls.csv with one "
        "summary row per recording. A rerun skips what is done and current.",
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="audio files, folders (searched recursively) or @list.txt (one path per line)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output folder: a timeline per recording, and calls.csv",
    )
    parser.add_argument("--jsonl", action="store_true", help="also write a JSONL timeline each")
    parser.add_argument(
        "--report", choices=("png", "html"), help="also draw ser-report's report for each"
    )
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=int,
        default=available_cores(),
        metavar="N",
        help="worker processes on this machine (default: the cores available)",
    )
    engine.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on this Dask scheduler (tcp://host:8786)"
    )
    parser.add_argument(
        "--scheduler-timeout",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="give up connecting to the Dask scheduler after this long",
    )
    add_channel_flags(parser)
    parser.add_argument(
        "--model", type=Path, metavar="PATH", help="ONNX model (default: model.path in the config)"
    )
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="a config file layered over the defaults"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="try recordings that failed before again"
    )
    return parser


def audio_seconds(path: Path) -> float:
    """Length from the file header (0 when it cannot be read: the job will say why)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 (any unreadable file)
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (SerError, OSError) as exc:
        return report(PROG, exc)
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted; finished recordings are on disk")
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.report:
        try:
            import matplotlib  # noqa: F401  (the plots extra)
        except ImportError:
            raise ConfigError(
                "--report needs matplotlib; install it with: pip install 'ser-live[plots]'"
            ) from None
    model_path = {"path": str(args.model.absolute()) if args.model else None}
    settings = load_settings(args.config, {"model": model_path})
    recordings = discover(args.inputs)
    if not recordings:
        raise InputsError(f"no audio files found in {' '.join(args.inputs)}")
    workers = min(args.workers, len(recordings))
    engine = (
        DaskEngine(args.scheduler, args.scheduler_timeout)
        if args.scheduler
        else LocalEngine(workers)
    )
    try:
        return _run_on(engine, recordings, settings, args)
    finally:
        engine.close()


def _run_on(
    engine: LocalEngine | DaskEngine,
    recordings: list[Recording],
    settings: Settings,
    args: argparse.Namespace,
) -> int:
    labels = model_labels(settings)  # a bad model stops here, before any work
    channels = channel_mode(args)
    spec = JobSpec(
        settings=settings,
        out_dir=args.out.absolute(),
        jsonl=args.jsonl,
        report=args.report,
        config=args.config.absolute() if args.config else None,
        fingerprint=fingerprint(settings, settings.model.path, channels),
        channels=channels,
    )
    try:
        spec.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create output folder {args.out}: {exc.strerror}") from None
    calls = CallsLog(spec.out_dir / CALLS_CSV, labels)
    todo = [r for r in recordings if not _current(r, calls, spec, args.retry_failed)]
    skipped = len(recordings) - len(todo)
    if skipped:
        say(
            f"ser-batch: {skipped} of {len(recordings)} recordings done before; skipping them"
        )
    order = [r.key for r in recordings]
    interrupted = _process(todo, spec, calls, engine, order)
    statuses = calls.statuses(order)
    failed = sum(status == ERROR for status in statuses.values())
    say(
        f"ser-batch: {len(statuses)} of {len(recordings)} recordings done, {failed} failed; "
        f"summary in {spec.out_dir / CALLS_CSV}"
    )
    if interrupted:
        say(
            "ser-batch: stopped before the end; run the same command again to resume"
        )
        return EXIT_INTERRUPTED
    if failed:
        say(
            f"ser-batch: error: {failed} of {len(recordings)} recordings failed "
            f"(status and reason in {CALLS_CSV})"
        )
        return EXIT_FAILURE
    return EXIT_OK


def model_labels(settings: Settings) -> tuple[str, ...]:
    """The model's labels, once it has loaded and fits this extractor (else ModelError)."""
    from streamer.engine.build import load_model

    return load_model(settings).labels


def _current(recording: Recording, calls: CallsLog, spec: JobSpec, retry_failed: bool) -> bool:
    state = FileState.of(recording.path)
    outputs = spec.outputs(recording)
    return calls.is_current(recording.key, state, spec.fingerprint, outputs, retry_failed)


def _process(
    todo: list[Recording],
    spec: JobSpec,
    calls: CallsLog,
    engine: LocalEngine | DaskEngine,
    order: list[str],
) -> bool:
    """Run ``todo``, logging each result as it comes; True when stopped by Ctrl-C/SIGTERM."""
    from streamer.batch.progress import Tally, progress_for

    if not todo:
        return False
    names = {r.key: str(r.name) for r in todo}
    seconds = {r.key: audio_seconds(r.path) for r in todo}
    tally = Tally(total=len(todo), total_audio_s=sum(seconds.values()))
    stop = threading.Event()
    results = engine.results(todo, spec, stop)
    with stop_on_signals(stop), progress_for(tally) as progress:
        try:
            for result in results:
                calls.append(result)
                tally.add(result, result.duration_s or seconds[result.path])
                progress.update(result, names[result.path])
        finally:
            results.close()  # a second Ctrl-C: workers are stopped at once
            calls.compact(order)  # one row per recording, in input order
    return stop.is_set() and tally.done < tally.total


if __name__ == "__main__":
    sys.exit(main())

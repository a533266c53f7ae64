"""ser-batch: a folder (or list) of recordings through ser-live's pipeline, one CSV each, plus
DIR/calls.csv with a row per recording (and per channel with ``--channels each``).

    ser-batch calls/ --out reviewed/                      # every core of this machine
    ser-batch @todo.txt --out reviewed/ --jsonl --report html
    ser-batch /shared/calls --out /shared/reviewed --scheduler tcp://10.0.0.5:8786

Exit codes: 0 every recording done, 1 some failed or were truncated (their rows say why) or the
run could not go on (a full disk, a lost scheduler: run again to resume), 2 bad usage (also:
the folder is in use by another run, or holds outputs made with other settings), 130 stopped
by Ctrl-C (finished recordings are on disk; run again to resume). See docs/batch.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from streamer.batch.cluster import DaskEngine
from streamer.batch.inputs import InputsError, Recording, find_inputs
from streamer.batch.job import (
    DONE,
    ERROR,
    INPUT,
    RETRY,
    TRUNCATED,
    CallResult,
    FileState,
    JobSpec,
    sweep_temporaries,
)
from streamer.batch.local import LocalEngine, available_cores
from streamer.batch.lock import LOCK_NAME, WORKERS_NAME, FolderBusy, FolderLock
from streamer.batch.names import shown
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
from streamer.errors import ConfigError, SerError, UsageError
from streamer.settings import Settings, load_settings

if TYPE_CHECKING:  # the pipeline's modules load after the workers have started
    from streamer.batch.plan import Plan
    from streamer.batch.state import RunState
    from streamer.batch.tables import Tables

# Only light modules above: the workers start before this process imports the pipeline's
# (numpy, scipy, onnxruntime, ~1 s), which it needs only to check the model.

PROG = "ser-batch"
CALLS_CSV = "calls.csv"
MAX_LINES = 10  # of one kind of notice (renamed outputs, skipped folders) before "and N more"


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog=PROG,
        description="Run many recordings through ser-live's pipeline: a CSV timeline per "
        "recording (the rows `ser-live --input F --no-ui --csv` logs) and DIR/calls.csv with one "
        "summary row per recording. A rerun skips what is done and current.",
    )
    _add_input_output_flags(parser)
    _add_engine_flags(parser)
    _add_run_flags(parser)
    return parser


def _add_input_output_flags(parser: argparse.ArgumentParser) -> None:
    """What is read and what is written."""
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
        "--report",
        choices=("png", "html"),
        help="also draw ser-report's report for each (and DIR/index.html linking them)",
    )


def _add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """Where the work runs: local worker processes or a Dask cluster."""
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


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Channels, model, settings and what a rerun may redo."""
    add_channel_flags(parser)
    parser.add_argument(
        "--model", type=Path, metavar="PATH", help="ONNX model (default: model.path in the config)"
    )
    parser.add_argument(
        "--config", type=Path, metavar="PATH", help="a config file layered over the defaults"
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="try recordings whose input failed before again (failures of the environment, "
        "such as a full disk, are always tried again)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="redo recordings whose outputs in DIR were made with another model, other "
        "segmenting or another channel choice (without it such a run is refused)",
    )


def audio_seconds(path: Path) -> float:
    """Length from the file header (0 when it cannot be read: the job will say why)."""
    import soundfile as sf

    try:
        info = sf.info(os.fsencode(path))
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


def _notices(lines: list[str]) -> None:
    for line in lines[:MAX_LINES]:
        say(f"{PROG}: {line}")
    if len(lines) > MAX_LINES:
        say(f"{PROG}: ... and {len(lines) - MAX_LINES} more like that")


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
    inputs = find_inputs(args.inputs)
    _notices(inputs.skipped)
    if not inputs.recordings:
        raise InputsError(f"no audio files found in {' '.join(args.inputs)}")
    out = args.out.absolute()
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create output folder {args.out}: {exc.strerror}") from None
    try:
        with FolderLock(out, secrets.token_hex(4)) as lock:
            lock.acquire()
            if lock.warning:
                say(f"{PROG}: warning: {lock.warning}")
            return _with_engine(inputs.recordings, settings, args, out, lock.run_id)
    except FolderBusy:
        raise  # the folder is another run's: touch nothing in it
    except UsageError:
        if created:  # refused before anything was done: leave no folder behind
            _forget(out)
        raise


def _forget(out: Path) -> None:
    for name in (LOCK_NAME, WORKERS_NAME, "calls.sqlite", "calls.sqlite-journal"):
        with contextlib.suppress(OSError):
            (out / name).unlink()
    with contextlib.suppress(OSError):
        out.rmdir()


def _with_engine(
    recordings: list[Recording], settings: Settings, args: argparse.Namespace, out: Path, run: str
) -> int:
    engine = (
        DaskEngine(args.scheduler, args.scheduler_timeout)
        if args.scheduler
        else LocalEngine(min(args.workers, len(recordings)), out)
    )
    try:
        return _run_on(engine, recordings, settings, args, out, run)
    finally:
        engine.close()


def _spec(
    settings: Settings, args: argparse.Namespace, out: Path, run: str
) -> tuple[JobSpec, tuple[str, ...], dict]:
    """The run's JobSpec, the model's labels and what shapes its rows (for the state)."""
    from streamer.batch.job import fingerprint, row_settings, view_fingerprint, view_settings
    from streamer.emotions import uncertain_threshold
    from streamer.engine.build import load_model

    model = load_model(settings)  # a bad model stops here, before any work
    channels = channel_mode(args)
    ui = settings.ui
    threshold = uncertain_threshold(
        ui.uncertain_below, ui.uncertain_from_model, model.info.uncertain_below
    )
    spec = JobSpec(
        settings=settings,
        out_dir=out,
        jsonl=args.jsonl,
        report=args.report,
        config=args.config.absolute() if args.config else None,
        fingerprint=fingerprint(settings, settings.model.path, channels),
        view_fingerprint=view_fingerprint(view_settings(settings, threshold, args.report)),
        channels=channels,
        uncertain_below=threshold,
        run_id=run,
    )
    description = {**row_settings(settings, settings.model.path, channels)}
    description["labels"] = list(model.labels)
    return spec, model.labels, description


def _run_on(
    engine: LocalEngine | DaskEngine,
    recordings: list[Recording],
    settings: Settings,
    args: argparse.Namespace,
    out: Path,
    run: str,
) -> int:
    from streamer.batch.legacy import adopt_old_calls
    from streamer.batch.naming import assign_names
    from streamer.batch.plan import make_plan, refuse_replacing
    from streamer.batch.state import RunState
    from streamer.batch.tables import Tables

    spec, labels, description = _spec(settings, args, out, run)
    state = RunState(out)
    try:
        adopt_old_calls(out, state)
        sweep_temporaries(out)  # of runs killed before they finished: no run is writing now
        recordings, lines, moved = assign_names(recordings, state, _reserved())
        _notices(lines)
        plan = make_plan(recordings, state, spec, args.retry_failed)
        if not args.replace:
            refuse_replacing(plan, state, spec, description)
        if state.settings_of(spec.fingerprint) != description:
            state.keep_settings(spec.fingerprint, description)
        _announce(plan, len(recordings))
        tables = Tables(state, out, labels, bool(args.report))
        try:
            interrupted = _process(plan.todo, spec, state, engine, tables)
        except BaseException:
            if tables.dirty:
                tables.write(quiet=True)  # what is recorded, as far as the disk allows
            raise
        if tables.dirty or moved or not (out / CALLS_CSV).exists():
            tables.write()
        return _finish(state, recordings, out, interrupted)
    finally:
        state.close()


def _reserved() -> tuple[str, ...]:
    """The folder's own files, which no output may be."""
    from streamer.batch.index_page import INDEX_HTML
    from streamer.batch.state import STATE_NAME

    return (CALLS_CSV, INDEX_HTML, STATE_NAME, f"{STATE_NAME}-journal", LOCK_NAME, WORKERS_NAME)


def _announce(plan: Plan, total: int) -> None:
    if plan.done:
        say(f"{PROG}: {len(plan.done)} of {total} recordings done before; skipping them")
    if plan.replaced:
        say(f"{PROG}: redoing {len(plan.replaced)} recordings made with other settings (--replace)")
    if plan.redrawn:
        say(
            f"{PROG}: redoing {plan.redrawn} recordings: the uncertain threshold or the "
            "report's [ui] settings changed"
        )
    _notices(
        [f"refused {shown(r.path)} without opening it: {r.problem}" for r in plan.todo if r.problem]
    )


def _refused(recording: Recording, spec: JobSpec) -> CallResult:
    return CallResult(
        path=recording.key,
        status=ERROR,
        cause=INPUT,
        error=recording.problem,
        state=FileState.of(recording.path),
        fingerprint=spec.fingerprint,
        view_fingerprint=spec.view_fingerprint,
        channels=str(spec.channels),
    )


def _process(
    todo: list[Recording],
    spec: JobSpec,
    state: RunState,
    engine: LocalEngine | DaskEngine,
    tables: Tables,
) -> bool:
    """Run ``todo``, recording each result as it comes; True when stopped by Ctrl-C/SIGTERM."""
    from streamer.batch.progress import Tally, progress_for

    if not todo:
        return False
    names = {r.key: shown(r.name) for r in todo}
    runnable = [r for r in todo if not r.problem]
    seconds = {r.key: audio_seconds(r.path) for r in runnable}
    tally = Tally(total=len(todo), total_audio_s=sum(seconds.values()))
    stop = threading.Event()
    with stop_on_signals(stop), progress_for(tally) as progress:

        def read(key: str, audio_s: float) -> None:
            tally.read(key, audio_s)
            progress.tick()

        def keep(result: CallResult) -> None:
            _record(state, result, spec.out_dir)
            tally.add(result, result.duration_s or seconds.get(result.path, 0.0))
            progress.update(result, names[result.path])
            tables.changed()

        for recording in todo:
            if recording.problem:
                keep(_refused(recording, spec))
        results = engine.results(runnable, spec, stop, read)
        try:
            for result in results:
                keep(result)
        finally:
            results.close()  # a second Ctrl-C: workers are stopped at once
    return stop.is_set() and tally.done < tally.total


def _record(state: RunState, result: CallResult, out: Path) -> None:
    """Record ``result``; once it is in place, remove what its recording's previous result
    wrote and this one did not (e.g. the JSON lines of a run with --jsonl, now redone)."""
    from streamer.batch.state import key_of

    before = state.previous(key_of(result.path))
    state.record(result)
    if before is not None and result.status in DONE:
        for stale in set(before.outputs) - set(result.outputs):
            with contextlib.suppress(OSError):
                (out / stale).unlink()


def _finish(state: RunState, recordings: list[Recording], out: Path, interrupted: bool) -> int:
    from streamer.batch.state import key_of

    statuses = list(state.statuses([key_of(r.key) for r in recordings]).values())
    count = {status: statuses.count(status) for status in (ERROR, RETRY, TRUNCATED)}
    failed = count[ERROR] + count[RETRY]
    total = len(recordings)
    say(
        f"{PROG}: {len(statuses)} of {total} recordings done, {failed} failed"
        + (f", {count[TRUNCATED]} truncated" if count[TRUNCATED] else "")
        + f"; summary in {out / CALLS_CSV}"
    )
    if interrupted:
        say(f"{PROG}: stopped before the end; run the same command again to resume")
        return EXIT_INTERRUPTED
    if failed:
        kinds = []
        if count[ERROR]:
            kinds.append(f"{count[ERROR]} by their input (tried again with --retry-failed)")
        if count[RETRY]:
            kinds.append(f"{count[RETRY]} by the environment (tried again by the next run)")
        say(
            f"{PROG}: error: {failed} of {total} recordings failed: {', '.join(kinds)}; "
            f"status and reason in {CALLS_CSV}"
        )
    if count[TRUNCATED]:
        say(
            f"{PROG}: error: {count[TRUNCATED]} of {total} recordings truncated (their rows up "
            f"to the cut are kept; see the note in {CALLS_CSV})"
        )
    return EXIT_FAILURE if failed or count[TRUNCATED] else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

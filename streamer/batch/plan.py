"""What a run has to do, from the run state: which recordings are done and current, which are
redone, and which would replace outputs made with other settings (refused without ``--replace``).

A recording is *current* when the state has its result from the same input bytes (size and
modification time), made with the same model and row settings (``fingerprint``) and the same
summary/report settings (``view_fingerprint``), and this run's outputs of it are there. Failures
of the input itself (``error``) count as done unless ``--retry-failed``; failures of the
environment (``retry``) never do.

Timelines are data: a rerun with another model, other segmenting or another ``--channels`` on
recordings whose outputs exist would replace them, so it is refused with one line saying what
differs, unless ``--replace`` says to. A change of the uncertain threshold or of the report's
[ui] settings only redraws summaries and reports; those recordings are simply redone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streamer.batch.inputs import Recording
from streamer.batch.job import DONE, ERROR, INPUT, FileState, JobSpec
from streamer.batch.state import Previous, RunState, key_of
from streamer.errors import OutputError


class OtherSettings(OutputError):
    """The output folder holds timelines of these recordings made with other settings."""


@dataclass
class Plan:
    todo: list[Recording] = field(default_factory=list)
    done: list[Recording] = field(default_factory=list)
    replaced: list[tuple[Recording, Previous]] = field(default_factory=list)  # other settings
    redrawn: int = 0  # redone for the threshold or the report's settings only


def _outputs_there(spec: JobSpec, recording: Recording) -> bool:
    return all(path.is_file() for path in spec.outputs(recording))


def _is_done(
    previous: Previous, same_input: bool, spec: JobSpec, recording: Recording, retry_failed: bool
) -> bool:
    if not same_input or previous.fingerprint != spec.fingerprint:
        return False
    if previous.status == ERROR:  # the input's own failure (an old one of unknown cause: no)
        return previous.cause == INPUT and not retry_failed
    return (
        previous.status in DONE
        and previous.view_fingerprint == spec.view_fingerprint
        and _outputs_there(spec, recording)
    )


def make_plan(
    recordings: list[Recording], state: RunState, spec: JobSpec, retry_failed: bool
) -> Plan:
    plan = Plan()
    for recording in recordings:
        previous = state.previous(key_of(recording.key))
        if previous is None:
            plan.todo.append(recording)
            continue
        now = FileState.of(recording.path)
        same_input = (previous.size_bytes, previous.mtime_ns) == (now.size, now.mtime_ns)
        if _is_done(previous, same_input, spec, recording, retry_failed):
            plan.done.append(recording)
            continue
        plan.todo.append(recording)
        if same_input and previous.status in DONE:
            if previous.fingerprint != spec.fingerprint:
                plan.replaced.append((recording, previous))
            elif previous.view_fingerprint != spec.view_fingerprint:
                plan.redrawn += 1
    return plan


def differences(before: dict | None, now: dict) -> list[str]:
    """What differs between two row-settings descriptions, e.g. ``channels: mix -> each``."""
    if before is None:
        return ["settings of an earlier ser-batch version"]
    found = []
    for key in sorted(set(before) | set(now)):
        old, new = before.get(key), now.get(key)
        if key == "labels" or old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            found += [
                f"{key}.{k}: {old.get(k)} -> {new.get(k)}"
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            ]
        else:
            found.append(f"{key}: {old} -> {new}")
    return found or ["the model file's contents"]


def refuse_replacing(plan: Plan, state: RunState, spec: JobSpec, description: dict) -> None:
    """OtherSettings naming how many recordings and what differs (up to three differences)."""
    if not plan.replaced:
        return
    seen: list[str] = []
    for _, previous in plan.replaced:
        for difference in differences(state.settings_of(previous.fingerprint), description):
            if difference not in seen:
                seen.append(difference)
    more = f" and {len(seen) - 3} more" if len(seen) > 3 else ""
    raise OtherSettings(
        f"{spec.out_dir} holds the outputs of {len(plan.replaced)} of these recordings made "
        f"with other settings ({'; '.join(seen[:3])}{more}); give --replace to redo them with "
        "these settings, or choose another --out"
    )

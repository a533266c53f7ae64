"""Every command in the README and in docs/*.md runs as it is written (issue 21.7).

Each fenced ```bash block is cut into commands (a line each, ``\\`` continuations joined) and
each ```python block is one program. The steps of a document run in its order, in a sandbox
folder of their own, as a reader would type them from the top: a command may use what an
earlier one made (``python -m streamer.live.demo call.wav`` makes the call the next ones
replay). ``ser-live``, ``python`` and the other commands are this environment's (its bin/ comes
first on PATH). A command passes when it exits 0 without a traceback.

What a command needs that the documents do not make themselves is laid out in the sandbox
first (:data:`PREPARED`: an M4A of the demo call, folders of recordings, a manifest of labelled
clips, all synthesised). The few commands that cannot run as written are in :data:`SPECIAL`,
each with the reason and what runs instead: a microphone (a private PulseAudio server stands in,
as in tests/live/test_pulse.py), the network, a cluster of machines, a run of many minutes.
A command added to a document is run as written unless it is added there too.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from tools import require_tool, skip_or_fail

PROJECT = Path(__file__).resolve().parents[2]
DOCUMENTS = ["README.md", *sorted(f"docs/{p.name}" for p in (PROJECT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Step:
    document: str
    line: int
    kind: str  # "bash" or "python"
    text: str  # the command as written (comment included), or the whole program

    @property
    def command(self) -> str:
        """The command without its trailing comment, spaces collapsed (the key of SPECIAL)."""
        return " ".join(strip_comment(self.text).split())

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}"


def strip_comment(command: str) -> str:
    """``command`` without a trailing ``# ...`` (a ``#`` inside quotes stays)."""
    quote = None
    for k, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (k == 0 or command[k - 1].isspace()):
            return command[:k].rstrip()
    return command


def steps_of(document: str) -> list[Step]:
    lines = (PROJECT / document).read_text(encoding="utf-8").splitlines()
    steps: list[Step] = []
    k = 0
    while k < len(lines):
        match = FENCE.match(lines[k])
        if not match:
            k += 1
            continue
        kind, start = match.group(1), k + 1
        end = next(j for j in range(start, len(lines)) if lines[j].startswith("```"))
        if kind == "python":
            steps.append(Step(document, start + 1, "python", "\n".join(lines[start:end]) + "\n"))
        elif kind == "bash":
            steps += bash_steps(document, lines, start, end)
        k = end + 1
    return steps


def bash_steps(document: str, lines: list[str], start: int, end: int) -> list[Step]:
    steps, pending, first = [], "", 0
    for j in range(start, end):
        line = lines[j]
        if not pending:
            first = j
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        if text and not text.startswith("#"):
            steps.append(Step(document, first + 1, "bash", text))
    return steps


ALL_STEPS = [step for document in DOCUMENTS for step in steps_of(document)]


@dataclass(frozen=True)
class How:
    """How a command that cannot run as written is run, and why."""

    reason: str
    run: bool = True  # False: not run here at all (the reason says what tests it instead)
    instead: str | None = None  # the command run in its place; None: as written
    pulse: bool = False  # with a private PulseAudio server as the machine's microphone
    xfail: str | None = None  # a known failure, with the issue that fixes it


MIC = "it listens to the microphone until stopped: a private PulseAudio server is the microphone"
CLUSTER = (
    "a Dask cluster spans machines: tests/batch/test_cluster.py runs a scheduler and two workers "
    "on 127.0.0.1 with the same ser-batch --scheduler command"
)
NETWORK = "installs from the network; the test environment has every extra ('.[test]')"
NOT_CLUSTER = How(CLUSTER, run=False)
LONG_BENCH = "runs for minutes; the --quick run below is the same script"
SMOKE_TEST = "tests/bench/ runs this very command from the checkout, so the bench cannot rot"
REALTIME = "replays the 37 s call at real-time pace; --fast draws the same last frame"
SMOKE = "trains on whole corpora (minutes); --smoke is the same run on a few speakers"
SERVER = "a server runs until it is stopped (SIGTERM drains it); "
NEEDS_SERVER = "needs a ser-serve listening on port 8765; "
SPECIAL: dict[str, How] = {
    "make test": How("it is the command that runs this test suite (CI runs it)", run=False),
    "make demo": How(
        "run with this environment's venv (VENV=...) from a copy of the Makefile, so it "
        "installs nothing and writes into the sandbox",
        instead="make demo VENV={venv}",
    ),
    "ser-live": How(MIC + "; 3 s", instead="ser-live --duration 3", pulse=True),
    "ser-live --list-devices": How(MIC, pulse=True),
    "ser-live --device pulse --no-ui --csv mic.csv --duration 3600": How(
        MIC + "; 3 s, not an hour",
        instead="ser-live --device pulse --no-ui --csv mic.csv --duration 3",
        pulse=True,
    ),
    "pip install 'ser-live[cluster]'": How(NETWORK, run=False),
    "dask scheduler": NOT_CLUSTER,
    "OMP_NUM_THREADS=1 dask worker tcp://10.0.0.5:8786 --nworkers 8 --nthreads 1": NOT_CLUSTER,
    "ser-batch /shared/calls --out /shared/reviewed --scheduler tcp://10.0.0.5:8786": NOT_CLUSTER,
    "python bench/batch.py": How(LONG_BENCH, run=False),
    "python bench/batch.py --rounds 1": How(LONG_BENCH, run=False),
    "python bench/batch.py --quick --no-opensmile": How(SMOKE_TEST, run=False),
    "python bench/live.py": How(LONG_BENCH, run=False),
    "python bench/live.py --quick": How(SMOKE_TEST + " (with --json to check its figures)",
                                        run=False),
    "python bench/models.py": How(LONG_BENCH, run=False),
    "python bench/models.py --quick": How(SMOKE_TEST + " (with --json to check its figures)",
                                          run=False),
    "python bench/features.py": How(
        "minutes, on the shared corpora; the --quick run below is the same script", run=False
    ),
    "python bench/features.py --quick --no-opensmile": How(SMOKE_TEST, run=False),
    "python bench/install_size.py": How(
        "builds and installs the wheel (a minute or two); tests/test_install.py runs the same "
        "script with --venv on the fresh install it makes",
        run=False,
    ),
    # docs/server.md: a server runs until stopped; the tests start it themselves.
    "ser-serve": How(SERVER + "tests/serve/test_drain.py runs this command", run=False),
    "ser-serve --model fast --max-sessions 32": How(SERVER + "tests/serve/conftest.py starts "
                                                    "servers with their limits", run=False),
    "SER_SERVE_TOKEN=$(cat /etc/ser/token) ser-serve --host 0.0.0.0 --allow-origin "
    "https://app.example.com": How(SERVER + "and listens on every interface; "
                                   "tests/serve/test_access.py checks tokens and origins",
                                   run=False),
    "pip install 'ser-live[serve]'": How(NETWORK, run=False),
    "curl -s http://127.0.0.1:8765/readyz": How(NEEDS_SERVER + "tests/serve/test_limits.py "
                                                "reads /readyz and /metrics", run=False),
    "curl -s http://127.0.0.1:8765/metrics | grep ser_sessions_active": How(
        NEEDS_SERVER + "tests/serve/test_limits.py reads /readyz and /metrics", run=False),
    "ser-client call.wav --server ws://127.0.0.1:8765 --speed 4": How(
        NEEDS_SERVER + "tests/serve/test_client.py runs ser-client against one", run=False),
    "ser-client call.wav --jsonl | jq -c 'select(.type == \"final\") | [.start_ms, .label]'":
        How(NEEDS_SERVER + "tests/serve/test_client.py runs ser-client --jsonl against one",
            run=False),
    "ser-client --mic --duration 60": How(
        NEEDS_SERVER + "and a microphone; tests/serve/test_client.py runs ser-client --mic with "
        "a private PulseAudio server as the microphone", run=False),
    "python bench/serve.py": How(LONG_BENCH, run=False),
    "python bench/serve.py --quick": How(SMOKE_TEST, run=False),
    "COLUMNS=100 ser-live --input call.wav --no-ui --realtime --csv shot.csv --screenshot live.svg":
        How(REALTIME, instead="COLUMNS=100 ser-live --input call.wav --no-ui --fast --csv shot.csv "
            "--screenshot live.svg"),
    "COLUMNS=110 ser-live --input stereo-call.wav --channels each --no-ui --realtime --csv "
    "shot-call.csv --screenshot live-call.svg": How(
        REALTIME, instead="COLUMNS=110 ser-live --input stereo-call.wav --channels each --no-ui "
        "--fast --csv shot-call.csv --screenshot live-call.svg"),
}


# docs/training.md's commands (being reworked with training/): corpus runs as --smoke runs.
_CLASSIC = {
    "ravdess8": "--corpora ravdess --model-type mlp_classic",
    "ravdess5": "--corpora ravdess --labels calm happy sad angry fearful --model-type mlp_classic",
    "combined": "--corpora ravdess emodb --model-type mlp_classic",
}
for _name, _flags in _CLASSIC.items():
    _written = (
        f"ser-train {_flags} --frontend functionals --feature-set mfcc_chroma_mel --augment 0 "
        f"--no-cross-corpus --output out/classic/{_name}.onnx"
    )
    SPECIAL[_written] = How(SMOKE, instead=_written + " --smoke --quiet")
_MIXED = "ser-train --corpora ravdess emodb --manifest calls.csv --output out/mixed/mixed.onnx"
SPECIAL[_MIXED] = How(SMOKE, instead=_MIXED + " --smoke --quiet")
for _written in (
    "ser-train --manifest calls.csv --output out/calls/calls.onnx",
    "ser-train --folder recordings/ --speaker-regex '^([a-z]+)_' --output out/folder/folder.onnx",
    "ser-train --manifest my-clips.csv --output my-model/model.onnx",
):
    SPECIAL[_written] = How("as written")
for _written in (
    "ser-live --model out/calls/calls.onnx --input call.wav",
    "ser-live --model my-model/model.onnx --input call.wav --no-ui",
):
    SPECIAL[_written] = How("as written")

# What each document's commands need that the documents do not make themselves.
PREPARED = {
    "README.md": ("call.m4a", "calls/", "my-clips.csv"),
    "docs/cli.md": ("call.m4a",),
    "docs/batch.md": ("calls/", "a.wav", "b.flac", "todo.txt", "stereo-calls/"),
    "docs/training.md": ("calls.csv", "recordings/", "call.wav"),
}


# --- preparing a sandbox ------------------------------------------------------------------


def demo_call(path: Path, stereo: bool = False) -> Path:
    require_tool("espeak-ng")
    from streamer.live.demo import make_sample

    path.parent.mkdir(parents=True, exist_ok=True)
    make_sample(path, stereo=stereo)
    return path


def labelled_clips(root: Path, manifest: str | None, folder: str | None) -> None:
    """Six espeak-ng "speakers" saying three lines in three styles: a manifest (paths relative
    to it) and/or a DIR/<label>/<speaker>_<n>.wav folder, as docs/training.md describes."""
    import numpy as np
    import own_corpus
    import soundfile as sf

    from streamer.live.demo import speak

    # own_corpus's four speakers and two more (its own table is left as it is: other tests
    # count its clips)
    speakers = {**own_corpus.SPEAKERS, "eve": ("en-us+f2", 60), "fay": ("en-gb+f4", 45)}
    rows = []
    for speaker, (voice, pitch) in speakers.items():
        for style, (wpm, offset) in own_corpus.STYLES.items():
            for n, text in enumerate(own_corpus.LINES):
                rel = Path("clips") / speaker / f"{style}_{n}.wav"
                samples, rate = speak(text, wpm, pitch + offset, voice)
                pad = np.zeros(int(0.3 * rate), np.float32)
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                sf.write(root / rel, np.concatenate([pad, samples, pad]), rate, subtype="PCM_16")
                rows.append({"path": rel.as_posix(), "label": style, "speaker": speaker})
                if folder:
                    target = root / folder / style / f"{speaker}_{n}.wav"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(root / rel, target)
    if manifest:
        own_corpus.write_manifest(root / manifest, rows)


def prepare(sandbox: Path, names: tuple[str, ...]) -> None:
    source = sandbox / ".prepared"
    if "call.m4a" in names:
        require_tool("ffmpeg")
        wav = demo_call(source / "call.wav")
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", wav, "-c:a", "aac", "-b:a", "64k",
             sandbox / "call.m4a"],
            check=True, timeout=120,
        )
    if "call.wav" in names:
        demo_call(sandbox / "call.wav")
    if "calls/" in names:
        demo_call(sandbox / "calls" / "2026-11" / "monday.wav")
        demo_call(sandbox / "calls" / "2026-11" / "tuesday-stereo.wav", stereo=True)
    if "a.wav" in names:
        demo_call(sandbox / "a.wav")
    if "b.flac" in names:
        import soundfile as sf

        audio, rate = sf.read(demo_call(source / "b.wav"))
        sf.write(sandbox / "b.flac", audio, rate)
    if "todo.txt" in names:
        demo_call(sandbox / "queue" / "c.wav")
        (sandbox / "todo.txt").write_text("queue/c.wav\n")
    if "stereo-calls/" in names:
        demo_call(sandbox / "stereo-calls" / "call-1.wav", stereo=True)
    if "my-clips.csv" in names:
        labelled_clips(sandbox, "my-clips.csv", None)
    if "calls.csv" in names or "recordings/" in names:
        labelled_clips(sandbox, "calls.csv", "recordings")


# --- running ------------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    ran: str  # what was run


class Documents:
    """Runs each document's steps in order, once, in its own sandbox."""

    def __init__(self, root: Path, stack: ExitStack) -> None:
        self.root = root
        self.stack = stack
        self.done: dict[str, Outcome] = {}
        self.sandboxes: dict[str, Path] = {}
        self._server = None
        self._servers = 0

    def sandbox(self, document: str) -> Path:
        if document not in self.sandboxes:
            path = self.root / re.sub(r"\W", "_", document)
            path.mkdir()
            prepare(path, PREPARED.get(document, ()))
            self.sandboxes[document] = path
        return self.sandboxes[document]

    def environment(self, pulse: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        if pulse:
            env.update(self.pulse_env())
        return env

    def pulse_env(self) -> dict[str, str]:
        """A private PulseAudio server's client settings; a new server when the last one has
        gone (it quits 20 s after its last client, and documents run minutes apart)."""
        if self._server is None or self._server.process.poll() is not None:
            from pulse import Feeder, PulseServer, missing_requirements

            reason = missing_requirements()
            if reason:
                skip_or_fail(f"the microphone commands need a PulseAudio server: {reason}")
            self._servers += 1
            root = self.root / f"pulse-{self._servers}"
            self._server = self.stack.enter_context(PulseServer(root).start())
            self.stack.enter_context(Feeder(self._server))  # a quiet room, at real-time pace
        env = self._server.client_env()
        return {k: v for k, v in env.items() if k.startswith("PULSE_")}

    def run(self, step: Step) -> Outcome:
        for earlier in RUN:
            if earlier.document == step.document and earlier.id not in self.done:
                self.done[earlier.id] = self._run_one(earlier)
            if earlier == step:
                break
        return self.done[step.id]

    def _run_one(self, step: Step) -> Outcome:
        sandbox = self.sandbox(step.document)
        how = special(step)
        if step.kind == "python":
            program = sandbox / f"step_{step.line}.py"
            program.write_text(step.text, encoding="utf-8")
            return self._shell([sys.executable, program.name], sandbox, self.environment(False))
        command = step.text if how is None or how.instead is None else how.instead
        command = command.format(venv=sys.prefix) if how is not None else command
        if "ffmpeg" in command:
            require_tool("ffmpeg")
        if "jq" in command.split():
            require_tool("jq")
        cwd = sandbox
        if step.command == "make demo":
            cwd = self._makefile_copy(sandbox)
        env = self.environment(how is not None and how.pulse)
        return self._shell(["bash", "-c", f"set -o pipefail; {command}"], cwd, env, command)

    def _makefile_copy(self, sandbox: Path) -> Path:
        """The Makefile and an old pyproject.toml in the sandbox: `make demo` then finds this
        venv installed (`make test` made it) and only runs the demo."""
        if not (Path(sys.prefix) / ".runtime").exists():
            skip_or_fail(f"make demo needs the venv `make test` makes ({sys.prefix}/.runtime)")
        shutil.copy2(PROJECT / "Makefile", sandbox / "Makefile")
        shutil.copy2(PROJECT / "pyproject.toml", sandbox / "pyproject.toml")
        os.utime(sandbox / "pyproject.toml", (0, 0))
        return sandbox

    @staticmethod
    def _shell(args, cwd: Path, env: dict[str, str], shown: str | None = None) -> Outcome:
        try:
            done = subprocess.run(
                args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            return Outcome(-1, str(exc.stdout), f"timed out: {exc}", shown or str(args))
        return Outcome(done.returncode, done.stdout, done.stderr, shown or " ".join(args))


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    with ExitStack() as stack:
        yield Documents(tmp_path_factory.mktemp("docs"), stack)


def special(step: Step) -> How | None:
    return SPECIAL.get(step.command) if step.kind == "bash" else None


NOT_RUN = [step for step in ALL_STEPS if (how := special(step)) is not None and not how.run]
RUN = [step for step in ALL_STEPS if step not in NOT_RUN]


@pytest.mark.parametrize("step", RUN, ids=[step.id for step in RUN])
def test_the_documented_command_runs_as_written(documents, step):
    how = special(step)
    outcome = documents.run(step)
    failed = outcome.code != 0 or "Traceback" in outcome.stderr
    if how is not None and how.xfail:
        if failed:
            pytest.xfail(how.xfail)
        pytest.fail(f"{step.id} passes now: remove its xfail ({how.xfail}) from SPECIAL")
    assert not failed, (
        f"{step.id}: `{outcome.ran}` exited {outcome.code}\n"
        f"--- stderr\n{outcome.stderr[-3000:]}\n--- stdout\n{outcome.stdout[-1500:]}"
    )


@pytest.mark.parametrize("step", NOT_RUN, ids=[step.id for step in NOT_RUN])
def test_a_command_not_run_here_says_why_and_what_covers_it(step):
    """Not run here, never silently: the reason is stated, and a test it names exists."""
    how = special(step)
    assert how is not None and len(how.reason) > 20
    for named in re.findall(r"tests/[\w/]+(?:\.py)?", how.reason):
        assert (PROJECT / named).exists(), f"{step.id}: {named} does not exist"


def test_every_command_is_in_a_block_the_test_reads():
    """Commands hide from this test in an unfenced or unlabelled block: every fence says
    bash, python or text, and no indented block holds a command."""
    for document in DOCUMENTS:
        lines = (PROJECT / document).read_text(encoding="utf-8").splitlines()
        inside = False
        for number, line in enumerate(lines, start=1):
            match = FENCE.match(line)
            if match:
                if not inside:
                    assert match.group(1) in ("bash", "python", "text"), f"{document}:{number}"
                inside = not inside
            elif not inside and re.match(r"^ {4}(\$ )?(ser-|python |make |pip )", line):
                pytest.fail(f"{document}:{number}: a command outside a fenced block: {line}")


def test_every_special_case_names_a_documented_command():
    """A command listed in SPECIAL that no document has any more is a stale exception."""
    documented = {step.command for step in ALL_STEPS if step.kind == "bash"}
    assert not set(SPECIAL) - documented, set(SPECIAL) - documented


def test_the_readme_stays_short():
    """Issue 21.9: set-up, main usage and links; the reference lives in docs/."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    for command in ("make demo", "make test"):
        assert command in text
    for document in DOCUMENTS[1:]:
        assert f"({document})" in text, f"README.md does not link {document}"


def test_links_between_the_documents_lead_somewhere():
    """A relative link names a file that exists, and an #anchor a heading of that file."""
    link = re.compile(r"\]\(([^)#\s]*)(#[^)\s]*)?\)")
    for document in DOCUMENTS:
        path = PROJECT / document
        for target, anchor in link.findall(path.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            linked = (path.parent / target).resolve() if target else path
            assert linked.exists(), f"{document}: link to {target} leads nowhere"
            if anchor and linked.suffix == ".md":
                assert anchor[1:] in anchors(linked), f"{document}: no heading {target}{anchor}"


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces
    to hyphens."""
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            names.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return names

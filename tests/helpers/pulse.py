"""A private PulseAudio server for the live-path tests and bench/live.py.

The server runs with its own runtime, state and home folders under one directory, listens on a
socket there, and has a ``module-pipe-source`` as its default source: whatever is written into
its FIFO is what a "microphone" hears. PortAudio reaches it through ALSA's ``pulse`` PCM
(libasound2-plugins), exactly as on a desktop. Clients find it through ``PULSE_SERVER``.

A pipe source only produces audio while data arrives, so :class:`Feeder` writes at real-time
pace and keeps writing silence before and after the recording, like a microphone in a quiet
room. Works as root (``-n`` with private paths, no ``--system``) and as a normal user. The
server is stopped on exit from the ``with`` block; should the test process die first, it quits
by itself 20 s after its last client left (``--exit-idle-time``).

    with PulseServer(tmp_dir) as server, Feeder(server) as feeder:
        ser_live = subprocess.Popen(["ser-live", "--device", "pulse", ...], env=server.client_env())
        ...  # once it is listening:
        feeder.play(recording)
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from tools import terminal_signals

RATE_HZ = 16000
ALSA_PULSE_PLUGIN = "libasound_module_pcm_pulse.so"


class PulseUnavailable(RuntimeError):
    """What is missing to run a private PulseAudio server here (the message names a package)."""


def missing_requirements() -> str | None:
    """None when a private server can be started, otherwise why not."""
    for tool, package in (("pulseaudio", "pulseaudio"), ("pactl", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install {package})"
    plugin_dirs = glob.glob("/usr/lib/*/alsa-lib") + glob.glob("/usr/lib*/alsa-lib")
    if not any(Path(d, ALSA_PULSE_PLUGIN).exists() for d in plugin_dirs):
        return f"ALSA pulse plugin {ALSA_PULSE_PLUGIN} missing (apt-get install libasound2-plugins)"
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return "PortAudio not found (apt-get install libportaudio2)"
    return None


class PulseServer:
    """``pulseaudio`` in the foreground with a pipe source ``testmic`` as the default input."""

    def __init__(self, root: Path | str, rate_hz: int = RATE_HZ, fallback_source: bool = False):
        self.root = Path(root)
        self.rate_hz = rate_hz
        # With a null sink loaded, its monitor is a second source that PulseAudio moves a
        # recording to when the pipe source disappears (like a desktop falling back to the
        # built-in microphone); without it, losing the pipe source ends the recording.
        self.fallback_source = fallback_source
        self.socket = self.root / "native"
        if len(str(self.socket)) > 100:  # a unix socket path must fit in 108 bytes
            self.socket = Path(tempfile.mkdtemp(prefix="ser-pa-")) / "native"
        self.fifo = self.root / "mic.fifo"
        self.log = self.root / "pulse.log"
        self.process: subprocess.Popen | None = None
        self._log_handle = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> PulseServer:
        reason = missing_requirements()
        if reason:
            raise PulseUnavailable(reason)
        for sub in ("run", "state", "home", "config"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "run", 0o700)  # pulseaudio refuses a runtime dir others can read
        if self.fifo.exists():
            self.fifo.unlink()  # module-pipe-source makes the FIFO itself and fails if it exists
        script = self.root / "server.pa"
        lines = [
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
            f"load-module module-pipe-source source_name=testmic file={self.fifo} "
            f"format=s16le rate={self.rate_hz} channels=1",
            "set-default-source testmic",
        ]
        if self.fallback_source:
            lines += [
                "load-module module-null-sink sink_name=nullsink",
                "set-default-sink nullsink",
            ]
        script.write_text("\n".join(lines) + "\n")
        env = self._private_env(dict(os.environ))
        env.pop("PULSE_SERVER", None)
        self._log_handle = open(self.log, "wb")  # noqa: SIM115 (held for the server's life)
        self.process = subprocess.Popen(
            [
                "pulseaudio",
                "-n",  # no default.pa: only the modules above
                "-F",
                str(script),
                "--daemonize=no",
                "--exit-idle-time=20",  # gone 20 s after its last client, even if orphaned
                "--use-pid-file=no",
                "--realtime=no",
                "--high-priority=no",
                "--disable-shm=yes",  # audio over the socket: no shm/memfd limits in containers
                "--disallow-exit=no",
                "--log-target=stderr",
                "--log-level=info",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C aimed at the test run does not reach it first
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PulseUnavailable(f"pulseaudio exited at start: {self.log_tail()}")
            if self.socket.exists() and self.fifo.exists() and self._ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise PulseUnavailable(f"pulseaudio not up after {timeout_s:.0f} s: {self.log_tail()}")

    def _ready(self) -> bool:
        result = self.pactl("get-default-source", check=False)
        return result.returncode == 0 and "testmic" in result.stdout

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def kill(self) -> None:
        """The audio server dies abruptly (SIGKILL): every stream on it is gone."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> PulseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------------------------
    def _private_env(self, env: dict[str, str]) -> dict[str, str]:
        env.update(
            HOME=str(self.root / "home"),
            XDG_RUNTIME_DIR=str(self.root / "run"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            PULSE_RUNTIME_PATH=str(self.root / "run"),
            PULSE_STATE_PATH=str(self.root / "state"),
        )
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        return env

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for a process that should record from this server (ser-live)."""
        env = dict(os.environ if base is None else base)
        env["PULSE_SERVER"] = f"unix:{self.socket}"
        env["PULSE_COOKIE"] = str(self.root / "cookie")  # never touch the user's own cookie
        return env

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pactl", *args],
            env=self.client_env(),
            capture_output=True,
            text=True,
            timeout=10,
            check=check,
        )

    def unload_source(self) -> None:
        """The microphone is unplugged: the pipe source disappears from the server."""
        self.pactl("unload-module", "module-pipe-source")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:])


class Feeder(threading.Thread):
    """Keeps the pipe source fed at real-time pace, as a microphone in a quiet room would be.

    Silence flows from :meth:`start` on; :meth:`play` queues a recording (float32 at the
    server's rate) to begin at the next chunk, and returns the stream index of its first sample.
    ``written_at(i)`` tells when stream sample ``i`` (counted from the first sample written)
    entered the pipe, for end-to-end latency measurements. ``loop=True`` repeats the recording
    until :meth:`stop`. ``chunk_s`` is the microphone's period: audio enters the pipe that much
    at a time, once the last sample of each chunk has been "captured".
    """

    def __init__(self, server: PulseServer, chunk_s: float = 0.02) -> None:
        super().__init__(daemon=True, name="pulse-feeder")
        self.server = server
        self.rate_hz = server.rate_hz
        self.chunk = int(chunk_s * self.rate_hz)
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._pcm = np.zeros(0, dtype="<i2")
        self._pcm_from = 0  # stream index of the recording's first sample
        self._cursor = 0  # stream index of the next sample to be taken
        self._loop = False
        self.started_at: float | None = None
        self.position = 0  # samples written so far
        self.error: str | None = None
        self.played = threading.Event()  # the queued recording has been written in full

    def play(self, audio: np.ndarray, loop: bool = False) -> int:
        pcm = (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
        with self._lock:
            self._pcm, self._loop = pcm, loop
            self._pcm_from = self._cursor
            self.played.clear()
            return self._pcm_from

    def written_at(self, sample_index: int) -> float:
        """Monotonic time at which stream sample ``sample_index`` entered the pipe."""
        assert self.started_at is not None
        return self.started_at + (sample_index + 1) / self.rate_hz

    def run(self) -> None:
        try:
            fd = os.open(self.server.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            self.error = f"cannot open {self.server.fifo}: {exc}"
            return
        try:
            self.started_at = time.monotonic()
            while not self._halt.is_set():
                with self._lock:
                    block = self._next_block()
                # A microphone hands a chunk over once its last sample has been captured.
                due = self.started_at + self._cursor / self.rate_hz
                delay = due - time.monotonic()
                if delay > 0 and self._halt.wait(delay):
                    break
                try:
                    os.write(fd, block.tobytes())  # < PIPE_BUF: written whole or not at all
                except BlockingIOError:
                    pass  # nobody is reading: a real microphone would lose this audio too
                except OSError as exc:
                    if exc.errno in (errno.EPIPE, errno.EBADF, errno.ENXIO):
                        self.error = "pipe source went away"
                        return
                    raise
                with self._lock:
                    self.position += len(block)
        finally:
            os.close(fd)

    def _next_block(self) -> np.ndarray:
        n = len(self._pcm)
        offset = self._cursor - self._pcm_from
        if n and self._loop:
            offset %= n
        if not n or offset >= n:
            if n:
                self.played.set()
            block = np.zeros(self.chunk, dtype="<i2")
        else:
            block = self._pcm[offset : offset + self.chunk]
        self._cursor += len(block)
        return block

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)

    def __enter__(self) -> Feeder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LiveProcess:
    """``ser-live --no-ui ARGS`` as a child process (for the live tests and bench/live.py).

    ``lines`` receives ``(monotonic time, stdout line)`` as each row is printed; ``stderr``
    collects stderr lines; ``listening`` is set once ser-live reports its microphone.
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        import queue
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamer.live.cli", "--no-ui", *args],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=terminal_signals,  # its Ctrl-C must reach it from a background harness
        )
        self.lines: queue.Queue = queue.Queue()
        self.stderr: list[str] = []
        self.listening = threading.Event()
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line))

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))
            if line.startswith("ser-live: microphone"):
                self.listening.set()

    def wait_listening(self, timeout_s: float = 60) -> None:
        if not self.listening.wait(timeout_s):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"ser-live never started listening: {self.stderr}")

    def finish(self, timeout_s: float) -> int:
        """Wait for ser-live to end by itself (killed if it takes longer); its exit code."""
        try:
            code = self.proc.wait(timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self, timeout_s: float = 10) -> int:
        """Ctrl-C, then wait as :meth:`finish` does."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.finish(timeout_s)
        except subprocess.TimeoutExpired:
            return self.proc.returncode

    def summary(self) -> str:
        return next((x for x in self.stderr if x.startswith("summary:")), "(no summary)")

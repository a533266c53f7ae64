"""Runs ser-live's command line on many files in one process (the fuzz test's worker).

    python tests/fuzz_driver.py RESULTS.jsonl MODEL.onnx OUT_DIR FILE...

For each file it calls ``streamer.live.cli.main`` as the ``ser-live`` script would, with file
descriptors 1 and 2 pointed at scratch files, so that what a user would see on stdout and stderr
(Python's lines and any C library's) is captured. It appends to RESULTS a ``start`` record before
each file (so a hang is pinned on its file) and a ``done`` record with the exit code, the stderr
text and the seconds taken. Anything escaping ``main`` is recorded as the traceback a user would
see. SIGALRM bounds each file.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

TIME_LIMIT_S = 20


class TimeLimit(BaseException):
    pass


def _alarm(signum, frame):  # noqa: ANN001, ARG001
    raise TimeLimit


def run_one(cli_main, args: list[str]) -> tuple[int, str, int]:
    """(exit code, stderr text, bytes on stdout) of one command line."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        signal.alarm(TIME_LIMIT_S)
        try:
            code = cli_main(args)
        except SystemExit as exc:  # argparse's own exit
            code = exc.code if isinstance(exc.code, int) else 1
        except TimeLimit:
            print(f"fuzz: over the time limit of {TIME_LIMIT_S} s", file=sys.stderr)
            code = -1
        except BaseException:  # noqa: BLE001 (what the user would see)
            traceback.print_exc()
            code = -2
        finally:
            signal.alarm(0)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
        err.seek(0)
        return code, err.read().decode("utf-8", "replace"), out.seek(0, os.SEEK_END)


def main(argv: list[str]) -> int:
    results, model, out_dir, *files = argv
    signal.signal(signal.SIGALRM, _alarm)
    from streamer.live.cli import main as cli_main

    with open(results, "a", encoding="utf-8") as log:
        for name in files:
            log.write(json.dumps({"start": name}) + "\n")
            log.flush()
            csv = Path(out_dir) / (Path(name).name + ".csv")
            args = ["--input", name, "--no-ui", "--fast", "--csv", str(csv), "--model", model]
            started = time.monotonic()
            code, stderr, stdout_bytes = run_one(cli_main, args)
            record = {
                "done": name,
                "code": code,
                "stderr": stderr,
                "stdout_bytes": stdout_bytes,
                "seconds": round(time.monotonic() - started, 3),
            }
            log.write(json.dumps(record) + "\n")
            log.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Makes the demo recording: a short support call spoken by espeak-ng, never corpus audio.

    python -m streamer.live.demo out/sample.wav            # both sides on one channel
    python -m streamer.live.demo --stereo out/call.wav     # agent left, customer right

Each line is spoken the way its words mean it, as far as a formant synthesiser can: its own
voice, rate, pitch and loudness (espeak-ng's ``-v``, ``-s``, ``-p``, ``-a``). Lines are
separated by ``gap_s`` of silence, so a replay logs one row per line. With ``stereo`` each side
of the call has its own channel, silent while the other side speaks, as a call recorder writes
it (``ser-live --channels each`` analyses the sides apart).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from streamer.errors import SerError

AGENT, CUSTOMER = "agent", "customer"
SIDES = (AGENT, CUSTOMER)  # channel 1 (left), channel 2 (right) of the stereo sample


@dataclass(frozen=True)
class Line:
    speaker: str  # AGENT or CUSTOMER
    text: str
    wpm: int  # words per minute (espeak-ng -s)
    pitch: int  # 0-99 (-p)
    amplitude: int = 100  # 0-200 (-a)
    voice: str = "en-us"  # espeak-ng voice, "+f3" etc. for its variants


# A support call: the agent (a British voice, even pace) and the customer (a female American
# voice) who is irritated, then panics, gives up, and is at last delighted. Each line is spoken
# the way its words mean it: fast and loud when angry, fast and very high when afraid, slow,
# low and quiet when resigned, quick and bright when glad. docs/cli.md quotes what the default
# model hears in it; tests/test_sample.py checks the layout.
AGENT_VOICE, CUSTOMER_VOICE = "en-gb", "en-us+f3"


def _agent(text: str, wpm: int, pitch: int, amplitude: int) -> Line:
    return Line(AGENT, text, wpm, pitch, amplitude, AGENT_VOICE)


def _customer(text: str, wpm: int, pitch: int, amplitude: int) -> Line:
    return Line(CUSTOMER, text, wpm, pitch, amplitude, CUSTOMER_VOICE)


LINES: tuple[Line, ...] = (
    _agent("Good morning, thank you for calling, how can I help you today?", 175, 60, 120),
    _customer("This is the third time I have called and nobody has fixed it!", 240, 55, 190),
    _agent("I am so sorry about that, let me have a look at your account", 160, 50, 100),
    _customer("Wait, you mean all my photos could be gone? What do I do now?", 260, 85, 150),
    _agent("I am afraid the old files could not be recovered", 150, 45, 100),
    _customer("Oh well, I suppose there is nothing anyone can do about it then", 110, 10, 60),
    _customer("Oh that is wonderful news! Thank you so much, you made my day!", 210, 70, 120),
)


class SampleError(SerError):
    pass


def speak(
    text: str, wpm: int, pitch: int, voice: str = "en-us", amplitude: int = 100
) -> tuple[np.ndarray, int]:
    """espeak-ng's rendering of ``text`` as float32 samples and its rate."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SampleError("espeak-ng is not installed (Debian: sudo apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "line.wav"
        cmd = [exe, "-v", voice, "-s", str(wpm), "-p", str(pitch), "-a", str(amplitude)]
        cmd += ["-w", str(wav), text]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not wav.exists():
            raise SampleError(f"espeak-ng failed: {result.stderr.strip() or result.returncode}")
        samples, rate = sf.read(wav, dtype="float32")
    return samples, rate


def make_sample(
    path: Path, lines: tuple[Line, ...] = LINES, gap_s: float = 1.5, stereo: bool = False
) -> float:
    """Write the sample to ``path``; returns its duration in seconds. ``stereo``: the agent's
    lines on the left channel, the customer's on the right, the other side silent meanwhile."""
    parts: list[tuple[np.ndarray, int]] = []  # (samples, channel)
    rate = 0
    for line in lines:
        if line.speaker not in SIDES:
            raise SampleError(f"unknown speaker {line.speaker!r}; use one of {', '.join(SIDES)}")
        samples, rate = speak(line.text, line.wpm, line.pitch, line.voice, line.amplitude)
        parts.append((samples, SIDES.index(line.speaker)))
    gap = np.zeros(int(gap_s * rate), dtype=np.float32)
    length = len(gap) * (len(parts) + 1) + sum(len(s) for s, _ in parts)
    audio = np.zeros((length, 2 if stereo else 1), dtype=np.float32)
    at = len(gap)
    for samples, channel in parts:
        audio[at : at + len(samples), channel if stereo else 0] = samples
        at += len(samples) + len(gap)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio if stereo else audio[:, 0], rate, subtype="PCM_16")
    return length / rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="WAV file to write")
    parser.add_argument("--gap-s", type=float, default=1.5, help="silence between lines")
    parser.add_argument(
        "--stereo",
        action="store_true",
        help="two-sided call: the agent on the left channel, the customer on the right",
    )
    args = parser.parse_args(argv)
    try:
        duration = make_sample(args.output, gap_s=args.gap_s, stereo=args.stereo)
    except (SampleError, OSError) as exc:
        print(f"ser-live sample: error: {exc}", file=sys.stderr)
        return 1
    layout = "stereo, agent left, customer right" if args.stereo else "mono"
    print(f"wrote {args.output} ({len(LINES)} utterances, {duration:.1f} s, {layout})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

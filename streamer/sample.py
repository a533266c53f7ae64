"""Makes the demo recording: synthetic speech (espeak-ng) with pauses, never corpus audio.

    python -m streamer.sample out/sample.wav

Each line is spoken with its own rate and pitch (a crude stand-in for expressive speech) and
separated from the next by ``gap_s`` of silence, so a replay should log one row per line.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

# (text, words per minute, pitch 0-99)
LINES: tuple[tuple[str, int, int], ...] = (
    ("Hello and thanks for calling, how can I help you today?", 160, 50),
    ("I have been waiting for over an hour and nobody has called me back!", 200, 75),
    ("I am so sorry to hear that and I will look into it right away", 140, 40),
    ("Oh wonderful, that is great news, thank you so much!", 185, 85),
    ("Well I suppose that will have to do", 110, 25),
)


class SampleError(RuntimeError):
    pass


def speak(text: str, wpm: int, pitch: int, voice: str = "en-us") -> tuple[np.ndarray, int]:
    """espeak-ng's rendering of ``text`` as float32 samples and its rate."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SampleError("espeak-ng is not installed (Debian: sudo apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "line.wav"
        cmd = [exe, "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(wav), text]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not wav.exists():
            raise SampleError(f"espeak-ng failed: {result.stderr.strip() or result.returncode}")
        samples, rate = sf.read(wav, dtype="float32")
    return samples, rate


def make_sample(
    path: Path, lines: tuple[tuple[str, int, int], ...] = LINES, gap_s: float = 1.5
) -> float:
    """Write the sample to ``path``; returns its duration in seconds."""
    parts: list[np.ndarray] = []
    rate = 0
    for text, wpm, pitch in lines:
        samples, rate = speak(text, wpm, pitch)
        gap = np.zeros(int(gap_s * rate), dtype=np.float32)
        parts += [gap, samples]
    parts.append(np.zeros(int(gap_s * rate), dtype=np.float32))
    audio = np.concatenate(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype="PCM_16")
    return len(audio) / rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="WAV file to write")
    parser.add_argument("--gap-s", type=float, default=1.5, help="silence between lines")
    args = parser.parse_args(argv)
    try:
        duration = make_sample(args.output, gap_s=args.gap_s)
    except (SampleError, OSError) as exc:
        print(f"ser-live sample: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({len(LINES)} utterances, {duration:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

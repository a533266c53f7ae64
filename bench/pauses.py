"""Are pauses heard? The segmenter's options side by side on test calls, with their cost.

Every option is ser-live's own segmenter (``streamer.engine.build.make_segmenter``) with the
shipped settings changed only where the option says:

  webrtc2          webrtcvad mode 2 alone (ser-live before vad.second_opinion)
  webrtc3          webrtcvad mode 3 alone (its strictest mode)
  webrtc2+silero   mode 2, and Silero VAD must agree (the shipped default)
  webrtc3+silero   mode 3, and Silero VAD must agree

Test calls (bench/pause_calls.py) join corpus clips (RAVDESS, EmoDB, nEMO under SER_DATA_DIR,
default ../shared/data) by pauses of 1.5 s and 1.0 s over noise floors from digital silence to
-45 dBFS (speech peaks at -17 dBFS frame RMS): "filled" calls keep each clip as recorded and
fill the pauses with the floor, "room" calls run the floor under everything. For each option:

  shared   share of adjacent words that one utterance covers (the issue's check: <= 5 %)
  missed   words no utterance covers;  split: words two or more utterances cover
  gain     the same calls at -20, -6 and +6 dB: share of utterance boundaries that move by
           more than one frame (30 ms), and the shared share at each gain
  speech   continuous speech must not be cut more: utterances in a monologue of clips joined by
           0.2-s gaps, and in lone clips (each should be one utterance)
  cost     microseconds of CPU per 30 ms frame (one process, pinned to one CPU, one thread), the
           CPU seconds one hour of audio costs, and the ratio to webrtc2, measured in turns

Without the corpora (or with --quick) the calls are made of espeak-ng words instead.

    python bench/pauses.py              # the full table (about 10 minutes on one core)
    python bench/pauses.py --quick      # a smoke run (CI)
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pause_calls import (  # noqa: E402
    SR,
    CallSpec,
    Scores,
    Word,
    as_word,
    build_call,
    corpus_words,
    score,
    segment,
)

from streamer.engine.build import make_segmenter  # noqa: E402
from streamer.settings import Settings, load_settings  # noqa: E402

OPTIONS = {
    "webrtc2": {"aggressiveness": 2, "second_opinion": "none"},
    "webrtc3": {"aggressiveness": 3, "second_opinion": "none"},
    "webrtc2+silero": {"aggressiveness": 2, "second_opinion": "silero"},
    "webrtc3+silero": {"aggressiveness": 3, "second_opinion": "silero"},
}
FLOORS = (None, -70.0, -60.0, -50.0, -45.0)
GAINS_DB = (-20.0, -6.0, 6.0)
ESPEAK_WORDS = (
    "hello", "yesterday", "absolutely", "never", "wonderful", "tomorrow", "seriously",
    "goodbye", "perhaps", "delighted", "terrible", "honestly", "sorry", "amazing",
)


def pin_to_one_cpu() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def settings_for(option: str, base: Settings) -> Settings:
    return dataclasses.replace(base, vad=dataclasses.replace(base.vad, **OPTIONS[option]))


def segmenter_for(option: str, base: Settings):  # noqa: ANN201
    settings = settings_for(option, base)
    return make_segmenter(settings.vad, settings.segmenter)


def espeak_words(count: int) -> list[Word]:
    """Words spoken by espeak-ng (the project's demo voice maker), several voices and rates."""
    import soxr

    from streamer.live.demo import speak

    words = []
    for i in range(count):
        voice = ("en-us", "en-gb", "en-us+f3")[i % 3]
        samples, rate = speak(ESPEAK_WORDS[i % len(ESPEAK_WORDS)], 140 + 20 * (i % 4), 50, voice)
        words.append(as_word(soxr.resample(samples, rate, SR).astype(np.float32)))
    return words


def word_sets(data_dir: Path | None, per_corpus: int) -> dict[str, list[Word]]:
    if data_dir is None:
        return {"espeak": espeak_words(per_corpus)}
    return {c: corpus_words(data_dir, c, per_corpus, seed=7) for c in ("ravdess", "emodb", "nemo")}


def scores_over(option: str, base: Settings, words: dict, spec: CallSpec) -> Scores:
    total = Scores(0, 0, 0, 0, 0, 0)
    for seed, group in enumerate(words.values()):
        call = build_call(group, spec, seed=seed)
        total = total + score(segment(segmenter_for(option, base), call.samples), call.words)
    return total


def cell(scores: Scores) -> str:
    return f"{100 * scores.shared_share:5.1f}% m{scores.missed} s{scores.split}"


def pause_table(options: list[str], base: Settings, words: dict, specs: list[CallSpec]) -> None:
    print("\n# words sharing an utterance (m = missed words, s = words split), by noise floor")
    for spec in specs:
        floors = " | ".join(f"{'digital' if f is None else f'{f:.0f} dBFS':>22}" for f in FLOORS)
        print(f"\n{spec.kind} calls, {spec.colour} floor, {spec.pause_s:.1f}-s pauses, "
              f"speech peaks "
              f"{spec.speech_peak_dbfs:.0f} dBFS\n{'option':16} {floors}")
        for option in options:
            row = [
                cell(scores_over(option, base, words, dataclasses.replace(spec, floor_dbfs=f)))
                for f in FLOORS
            ]
            print(f"{option:16} " + " | ".join(f"{c:>22}" for c in row), flush=True)


def moved_share(reference: list, other: list, tolerance_s: float = 0.031) -> float:
    """Share of the reference's boundaries (starts and ends) with no boundary of ``other``
    within ``tolerance_s``."""
    ref = [t for u in reference for t in u]
    got = np.array([t for u in other for t in u]) if other else np.zeros(0)
    moved = sum(not np.any(np.abs(got - t) <= tolerance_s) for t in ref)
    return moved / len(ref) if ref else 0.0


def gain_table(options: list[str], base: Settings, words: dict, spec: CallSpec) -> None:
    print(f"\n# gain invariance ({spec.kind} calls, floor {spec.floor_dbfs} dBFS): boundaries "
          "moved vs 0 dB, and the shared share, at each gain")
    for option in options:
        parts = []
        for gain in GAINS_DB:
            moved, shared = [], Scores(0, 0, 0, 0, 0, 0)
            for seed, group in enumerate(words.values()):
                cuts = {}
                for g in (0.0, gain):
                    call = build_call(group, dataclasses.replace(spec, gain_db=g), seed=seed)
                    cuts[g] = segment(segmenter_for(option, base), call.samples)
                moved.append(moved_share(cuts[0.0], cuts[gain]))
                shared = shared + score(cuts[gain], call.words)
            parts.append(f"{gain:+.0f} dB: moved {100 * np.mean(moved):4.1f}% "
                         f"shared {100 * shared.shared_share:4.1f}%")
        print(f"{option:16} " + " | ".join(parts), flush=True)


def speech_table(options: list[str], base: Settings, words: dict, extra: dict) -> None:
    """Continuous speech: utterance counts (fewer pieces = less fragmented)."""
    print("\n# continuous speech: utterances found (monologue = clips joined by 0.2-s gaps; "
          "lone clips: clips with more than one utterance / clips with none)")
    monologues = {}
    for name, group in words.items():
        spec = CallSpec(kind="filled", pause_s=0.2, floor_dbfs=None)
        monologues[name] = build_call(group, spec).samples
    for option in options:
        parts = []
        for name, samples in {**monologues, **extra}.items():
            parts.append(f"{name} {len(segment(segmenter_for(option, base), samples))}")
        lone = [
            len(segment(segmenter_for(option, base), np.concatenate(
                [np.zeros(SR // 2, np.float32), w.samples * np.float32(10 ** (-17 / 20)),
                 np.zeros(SR // 2, np.float32)])))
            for group in words.values() for w in group
        ]
        parts.append(f"lone clips >1: {sum(n > 1 for n in lone)}/{len(lone)}, "
                     f"0: {sum(n == 0 for n in lone)}")
        print(f"{option:16} " + " | ".join(parts), flush=True)


def cpu_seconds(option: str, base: Settings, samples: np.ndarray, chunk: int) -> float:
    segmenter = segmenter_for(option, base)
    start = time.process_time()
    for at in range(0, len(samples), chunk):
        segmenter.feed(samples[at : at + chunk])
    segmenter.flush()
    return time.process_time() - start


def cost_table(options: list[str], base: Settings, samples: np.ndarray, turns: int) -> dict:
    """CPU per 30 ms frame for each option, in live-sized (30 ms) and batch-sized (1 s) blocks,
    measured in interleaved turns (median), as ratios to webrtc2."""
    frames = len(samples) // 480
    print(f"\n# cost: the whole segmenter (VAD, gain staging, cuts) over {len(samples) / SR:.0f} s "
          f"of a call, median of {turns} interleaved turns, one thread")
    results = {}
    for label, chunk in (("30 ms blocks", 480), ("1 s blocks", SR)):
        times: dict[str, list[float]] = {o: [] for o in options}
        for option in options:  # warm-up: sessions, caches
            cpu_seconds(option, base, samples[: 5 * SR], chunk)
        for _ in range(turns):
            for option in options:
                times[option].append(cpu_seconds(option, base, samples, chunk))
        reference = np.median(times[options[0]])
        for option in options:
            seconds = float(np.median(times[option]))
            per_frame_us = 1e6 * seconds / frames
            per_hour_s = seconds * 3600 * SR / len(samples)
            results[(option, chunk)] = per_frame_us
            print(f"{option:16} {label:13} {per_frame_us:7.1f} us/frame  {per_hour_s:6.1f} "
                  f"CPU s per audio hour  x{seconds / reference:5.2f} vs {options[0]}")
    return results


def demo_call() -> dict[str, np.ndarray]:
    """The demo call (streamer.live.demo, espeak-ng) as a continuous-speech check."""
    import tempfile

    import soundfile as sf
    import soxr

    from streamer.live.demo import make_sample

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.wav"
        make_sample(path)
        samples, rate = sf.read(path, dtype="float32")
    return {"demo call (7 lines)": soxr.resample(samples, rate, SR).astype(np.float32)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run on espeak-ng words")
    parser.add_argument("--words", type=int, default=60, help="words per corpus")
    parser.add_argument("--turns", type=int, default=5, help="timing turns per option")
    parser.add_argument("--options", nargs="+", choices=list(OPTIONS), default=list(OPTIONS),
                        help="the options to compare (the first is the cost reference)")
    args = parser.parse_args(argv)
    print(pin_to_one_cpu())
    base = load_settings()
    data_dir = None if args.quick else base.data.dir
    if data_dir is not None and not (data_dir / "emodb").is_dir():
        print(f"no corpora under {data_dir}: espeak-ng words instead")
        data_dir = None
    options = args.options
    words = word_sets(data_dir, 6 if args.quick else args.words)
    floors_specs = [CallSpec("filled", 1.5), CallSpec("room", 1.5)]
    if not args.quick:
        floors_specs += [CallSpec("filled", 1.0), CallSpec("filled", 1.5, colour="pink"),
                         CallSpec("room", 1.0, speech_peak_dbfs=-30.0)]
    pause_table(options, base, words, floors_specs)
    gain_table(options, base, words, CallSpec("filled", 1.5, floor_dbfs=-50.0))
    speech_table(options, base, words, demo_call())
    call = build_call(next(iter(words.values())), CallSpec("filled", 1.5, floor_dbfs=-50.0))
    costs = cost_table(options, base, call.samples, 1 if args.quick else args.turns)
    ratio = costs[(options[-1], SR)] / costs[(options[0], SR)]
    print(f"\ncost_ratio_1s_blocks: {options[-1]} / {options[0]} = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

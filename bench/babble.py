"""Babble behind the caller: calls of corpus clips, clean and degraded, with the foreground gate
(``vad.foreground_margin_db``) off and at each margin asked for, side by side.

For each corpus (RAVDESS, EmoDB, nEMO under SER_DATA_DIR) ``--clips`` clips of neutral, happy,
sad and angry are joined into one call as training/evaluation/calls.py joins them (seeded order,
pauses drawn from 0.3-1.5 s with a -70 dBFS floor, peak -8 dBFS), then replayed as

  clean      the call as built
  babble     mixed with babble at 10 dB SNR over the whole call, pauses included (calls.degrade):
             3-5 other speakers of the same corpus (clips never in the call), each a track of
             their clips as recorded, level-matched and summed
  telephone  the call through the telephone channel (calls.degrade)
  floor-45   the pauses filled with white noise at -45 dBFS instead of -70

and each through ser-live's segmenter (streamer.engine.build.make_segmenter) gives:

  rows     utterances;  covered: clips a row overlaps by at least half of the shorter of the two
  merged   rows that hold a third or more of two clips (utterances run together)
  med      median row length (s)
  UA       4-class UA (arg-max over neutral/happy/sad/angry, a clip without a row counts wrong),
           when the model (--model, default models/ser-default.onnx) loads: the call replayed
           through EmotionStream as ser-live --input replays it (calls.replay)

Then input with nobody in front of the microphone: babble alone, pink and white noise alone,
and synthetic music (random harmonic notes), ``--alone-s`` each: utterances found (should be 0).

    python bench/babble.py                       # margins 0 (off) and the shipped default
    python bench/babble.py --margins 0 4 6 8 10  # a sweep
    python bench/babble.py --no-model            # segmentation only
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamer.engine.build import make_segmenter  # noqa: E402
from streamer.settings import Settings, load_settings  # noqa: E402
from training.data import audio, augment, corpora  # noqa: E402
from training.evaluation import calls  # noqa: E402

FOUR = ("neutral", "happy", "sad", "angry")
CORPORA = ("ravdess", "emodb", "nemo")
PLANS = {
    "clean": calls.CallPlan(gap_s=(0.3, 1.5)),
    "babble": calls.CallPlan(gap_s=(0.3, 1.5), channel="babble"),
    "telephone": calls.CallPlan(gap_s=(0.3, 1.5), channel="telephone"),
    "floor-45": calls.CallPlan(gap_s=(0.3, 1.5), floor_dbfs=-45.0),
}
SR = calls.RATE


def with_margin(base: Settings, margin_db: float, window_s: float | None = None) -> Settings:
    vad = dataclasses.replace(base.vad, foreground_margin_db=margin_db)
    if window_s is not None:
        vad = dataclasses.replace(vad, background_window_s=window_s)
    return dataclasses.replace(base, vad=vad)


def load_clips(
    base: Settings, corpus: str, count: int, pool: int, seed: int
) -> tuple[list[np.ndarray], list[str], list[np.ndarray]]:
    """``count`` clips of the four classes for the call (audio, labels) and ``pool`` other
    clips of the corpus for its babble, never the same clips."""
    clips = corpora.read_corpus(base.data.dir, corpus)
    order = np.random.default_rng(seed).permutation(len(clips))
    chosen = [int(i) for i in order if clips[i].label in FOUR][:count]
    others = [int(i) for i in order if int(i) not in set(chosen)][:pool]
    prep = audio.Preparation(base.vad, base.segmenter)
    load = [audio.load(clips[i].path, prep, trim=False) for i in chosen]
    babble = [audio.load(clips[i].path, prep, trim=False) for i in others]
    return load, [clips[i].label for i in chosen], babble


def babble(pool: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> np.ndarray:
    """3-5 voices, each a track of pool clips (as recorded) at a random offset, level-matched
    and summed."""
    voices = int(rng.integers(3, 6))
    order = rng.permutation(len(pool))
    out = np.zeros(n, np.float32)
    for k in range(voices):
        track = np.concatenate([pool[int(i)] for i in order[k::voices]])
        track = np.roll(np.resize(track, max(n, len(track))), int(rng.integers(len(track))))
        out += track[:n] / augment.rms(track)
    return out


def segment(settings: Settings, samples: np.ndarray) -> list[tuple[float, float]]:
    """Final utterances of ser-live's segmenter, fed in 1-s blocks."""
    seg = make_segmenter(settings.vad, settings.segmenter, SR)
    found = []
    for i in range(0, len(samples), SR):
        found += seg.feed(samples[i : i + SR])
    return [(u.start_s, u.end_s) for u in found + seg.flush()]


@dataclasses.dataclass
class _Row:
    start_s: float
    end_s: float


def seg_scores(utterances: list[tuple[float, float]], spans: list) -> tuple[int, int, int, float]:
    """rows, clips covered, rows holding two clips, median row length."""
    rows = [_Row(a, b) for a, b in utterances]
    covered = sum(calls.covering(rows, span) is not None for span in spans)
    merged = sum(calls._covers_two(row, spans) for row in rows)
    median = float(np.median([r.end_s - r.start_s for r in rows])) if rows else 0.0
    return len(rows), covered, merged, median


def four_class_ua(model: object, settings: Settings, samples: np.ndarray, call: calls.Call,
                  labels: Sequence[str]) -> float:
    from training.evaluation.loco import score_classes

    finals = [r for r in calls.replay(model, samples, settings) if r.final]
    names = list(model.labels)
    probs = np.full((len(call.clips), len(names)), np.nan)
    for k, span in enumerate(call.spans):
        row = calls.covering(finals, span)
        if row is not None:
            probs[k] = row.probabilities
    y = np.array([names.index(labels[i]) for i in call.clips])
    scores = score_classes(names, y, probs, FOUR)
    return scores.ua if scores else float("nan")


def music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Synthetic music: notes of 0.2-0.6 s, random pitches, a few harmonics, decaying."""
    out, at = np.zeros(n, np.float32), 0
    while at < n:
        length = min(int(SR * rng.uniform(0.2, 0.6)), n - at)
        t = np.arange(length) / SR
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        note = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6))
        out[at : at + length] = 0.1 * note * np.exp(-3.0 * t)
        at += length
    return out


def alone_signals(pool: Sequence[np.ndarray], seconds: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    b = babble(pool, n, rng)
    scale = lambda x, dbfs: (x * 10 ** (dbfs / 20) / augment.rms(x)).astype(np.float32)  # noqa: E731
    return {
        "babble": scale(b, -30.0),
        "pink": scale(augment.pink_noise(n, rng), -40.0),
        "white": scale(augment.white_noise(n, rng), -40.0),
        "music": scale(music(n, rng), -25.0),
    }


def load_model(path: Path | None, base: Settings) -> object | None:
    if path is None:
        return None
    from streamer.engine.build import load_model as load

    try:
        return load(base, path)
    except Exception as exc:  # noqa: BLE001 (a bench: say why and go on without UA)
        print(f"model {path} not loaded ({exc}): no UA column")
        return None


def corpus_table(base: Settings, corpus: str, margins: Sequence[float], model: object | None,
                 args: argparse.Namespace) -> dict:
    clips, labels, pool = load_clips(base, corpus, args.clips, args.pool, args.seed)
    alone = {}
    for cond, plan in PLANS.items():
        call = calls.make_calls(clips, plan, args.seed)[0]
        noise = babble(pool, len(call.samples), np.random.default_rng(args.seed + 1))
        samples = calls.degrade(call, plan, noise if plan.channel == "babble" else None, args.seed)
        cells = []
        for margin in margins:
            settings = with_margin(base, margin, args.window)
            rows, covered, merged, med = seg_scores(segment(settings, samples), call.spans)
            cell = f"{rows:4d} {covered:3d}/{len(clips)} {merged:3d} {med:4.1f}"
            if model is not None:
                cell += f" {four_class_ua(model, settings, samples, call, labels):.3f}"
            cells.append(cell)
        print(f"{corpus:8s} {cond:10s} " + " | ".join(cells), flush=True)
    for name, samples in alone_signals(pool, args.alone_s, args.seed).items():
        alone[name] = [len(segment(with_margin(base, m, args.window), samples)) for m in margins]
    print(f"{corpus:8s} alone {args.alone_s:.0f} s, utterances: " + "; ".join(
        f"{name} " + "/".join(str(v) for v in counts) for name, counts in alone.items()
    ), flush=True)
    return alone


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=CORPORA)
    p.add_argument("--clips", type=int, default=40, help="clips per call (default 40)")
    p.add_argument("--pool", type=int, default=40, help="other clips for the babble (40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--margins", type=float, nargs="+", help="dB; 0 = off (default: 0, shipped)")
    p.add_argument("--window", type=float, help="vad.background_window_s (default: shipped)")
    p.add_argument("--alone-s", type=float, default=60.0, help="seconds of each alone signal")
    p.add_argument("--model", type=Path, default=ROOT / "models" / "ser-default.onnx")
    p.add_argument("--no-model", action="store_true", help="segmentation only")
    args = p.parse_args(argv)
    base = load_settings()
    margins = args.margins or [0.0, base.vad.foreground_margin_db]
    model = None if args.no_model else load_model(args.model, base)
    window = args.window or base.vad.background_window_s
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"seed {args.seed}, {args.clips} clips per call, window {window} s")
    head = "rows covered merged med" + (" UA" if model is not None else "")
    print(f"{'corpus':8s} {'condition':10s} " + " | ".join(
        f"margin {m:g}: {head}" for m in margins))
    for corpus in args.corpora:
        corpus_table(base, corpus, margins, model, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Feature-extraction benchmark: this extractor vs. the equivalent librosa calls vs. openSMILE.

All three run side by side, in one process, on the same audio: real speech from the shared
corpora (SER_DATA_DIR, default ../shared/data) cut to several utterance lengths, or a synthetic
speech-like signal when the corpora are missing. Single core: BLAS/OpenMP threads are limited to
one and the process is pinned to one CPU before numpy is imported.

What is timed (each a full utterance -> feature vector; the median over --repeats runs, taken in
turns that interleave the methods, after a warm-up):
  ours              streamer.features.extract_vector: the utterance vector the classifier reads,
                    exactly what the live path runs per utterance
  librosa+yin       the same descriptor set from librosa at matching parameters, used well (one
                    STFT shared by all spectral calls): melspectrogram, power_to_db, mfcc,
                    delta (1st, 2nd), rms, zero_crossing_rate, spectral centroid, bandwidth,
                    rolloff, flatness, contrast, chroma_stft (tuning=0), yin for F0 (32 ms
                    frames, 10 ms hop), then mean/std/percentiles over frames
  librosa/call+yin  the same, but every feature call computes its own STFT from the waveform
                    (how the classic recipes call librosa)
  librosa+pyin      librosa+yin with pyin instead of yin (pyin dominates its time)
  opensmile         openSMILE eGeMAPSv02 functionals (a reference point, another feature set)

The last line is ``speedup_vs_librosa: X``, the conservative figure: median over utterance
lengths of (librosa+yin time / ours time). The other ratios are printed just above it.

    python bench/features.py            # full run
    python bench/features.py --quick    # tiny smoke run (CI)
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamer import features  # noqa: E402
from streamer.features import runtime  # noqa: E402

SR = features.SAMPLE_RATE
CFG = features.DEFAULT_CONFIG


def pin_to_one_cpu() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to cpu {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


def data_dir() -> Path:
    env = os.environ.get("SER_DATA_DIR")
    return Path(env) if env else (ROOT.parent / "shared" / "data")


def speech_clips(root: Path) -> list[Path]:
    clips = sorted((root / "emodb").glob("*.flac")) + sorted(root.glob("ravdess/Actor_*/*.flac"))
    return clips[::7]


def synthetic(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like: gliding harmonic voice in syllables, with noise bursts in between."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 140 * 2 ** (0.4 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 30))
    syllables = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    y = 0.1 * voice * syllables + 0.02 * rng.standard_normal(t.size) * (1 - syllables / 4)
    return y.astype(np.float32)


def utterances(lengths: list[float]) -> tuple[dict[float, np.ndarray], str]:
    clips = speech_clips(data_dir())
    if not clips:
        return {s: synthetic(s) for s in lengths}, "synthetic speech-like signal (no corpora)"
    import soundfile

    pieces, total, need = [], 0, int(max(lengths) * SR)
    for path in clips:
        audio, rate = soundfile.read(path, dtype="float32")
        if rate != SR or audio.ndim != 1:
            continue
        pieces.append(audio)
        total += audio.size
        if total >= need:
            break
    speech = np.concatenate(pieces)
    if speech.size < need:
        speech = np.tile(speech, need // speech.size + 1)
    return {s: speech[: int(s * SR)] for s in lengths}, f"real speech from {data_dir()}"


def librosa_pipeline(f0: str, shared_stft: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    """The same descriptor set from librosa at matching parameters, then mean/std/percentiles.

    ``shared_stft``: one STFT feeds every spectral call (librosa used well); otherwise each
    feature function gets the waveform and computes its own STFT, as the classic recipes do.
    F0: ``yin`` or ``pyin`` over 32 ms frames (our YIN frame is 31.5 ms), every 10 ms.
    """
    import librosa

    kw = {"n_fft": CFG.n_fft, "hop_length": CFG.hop_length, "win_length": CFG.win_length}
    pitch_kw = {
        "fmin": CFG.f0_min_hz, "fmax": CFG.f0_max_hz, "sr": SR, "frame_length": 512,
        "hop_length": CFG.hop_length,
    }

    def spectral_rows(y: np.ndarray) -> list[np.ndarray]:
        if shared_stft:
            mag = np.abs(librosa.stft(y, **kw, window="hann", center=True, pad_mode="constant"))
            power: np.ndarray | None = mag**2
            src: dict[str, np.ndarray | None] = {"S": mag}
            mel = librosa.feature.melspectrogram(
                S=power, sr=SR, n_mels=CFG.n_mels, fmax=CFG.fmax_hz
            )
            chroma = librosa.feature.chroma_stft(S=power, sr=SR, n_fft=CFG.n_fft, tuning=0.0)
        else:
            src = {"y": y}
            mel = librosa.feature.melspectrogram(
                y=y, sr=SR, **kw, n_mels=CFG.n_mels, fmax=CFG.fmax_hz
            )
            chroma = librosa.feature.chroma_stft(y=y, sr=SR, **kw, tuning=0.0)
        spec_kw = {} if shared_stft else {"hop_length": CFG.hop_length,
                                           "win_length": CFG.win_length}
        log_mel = librosa.power_to_db(mel, top_db=None)
        mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=CFG.n_mfcc)
        width = CFG.delta_width
        return [
            log_mel,
            mfcc,
            librosa.feature.delta(mfcc, width=width, order=1, mode="nearest"),
            librosa.feature.delta(mfcc, width=width, order=2, mode="nearest"),
            librosa.feature.rms(y=y, frame_length=CFG.win_length, hop_length=CFG.hop_length),
            librosa.feature.zero_crossing_rate(
                y, frame_length=CFG.win_length, hop_length=CFG.hop_length
            ),
            librosa.feature.spectral_centroid(**src, sr=SR, n_fft=CFG.n_fft, **spec_kw),
            librosa.feature.spectral_bandwidth(**src, sr=SR, n_fft=CFG.n_fft, **spec_kw),
            librosa.feature.spectral_rolloff(**src, sr=SR, n_fft=CFG.n_fft, **spec_kw),
            librosa.feature.spectral_flatness(**src, n_fft=CFG.n_fft, **spec_kw),
            librosa.feature.spectral_contrast(
                **src, sr=SR, n_fft=CFG.n_fft, fmin=CFG.contrast_fmin_hz,
                n_bands=CFG.contrast_bands, **spec_kw,
            ),
            chroma,
        ]

    def run(y: np.ndarray) -> np.ndarray:
        rows = spectral_rows(y)
        if f0 == "pyin":
            pitch = np.nan_to_num(librosa.pyin(y, **pitch_kw)[0])
        else:
            pitch = librosa.yin(y, **pitch_kw)
        n = min(r.shape[-1] for r in rows)
        frames = np.vstack([r[..., :n] for r in rows] + [pitch[None, :n]])
        stats = [frames.mean(1), frames.std(1), *np.percentile(frames, [10, 50, 90], axis=1)]
        return np.concatenate(stats)

    return run


def opensmile_pipeline() -> Callable[[np.ndarray], object] | None:
    try:
        import opensmile
    except ImportError:
        return None
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    return lambda y: smile.process_signal(y, SR)


WARM_UP_S = 0.3  # per method and length: caches, numba JIT in librosa, the allocator's heap
ROUNDS = 5  # the methods take turns, so a slow spell of the machine hits them all alike


def median_times_ms(
    methods: dict[str, tuple[Callable[[np.ndarray], object], int]], y: np.ndarray
) -> dict[str, float]:
    """Median time per call of every method on ``y``: after a warm-up, each method's runs are
    split into ROUNDS turns interleaved with the other methods', then pooled."""
    for fn, _ in methods.values():
        start = time.perf_counter()
        fn(y)
        while time.perf_counter() - start < WARM_UP_S:
            fn(y)
    times: dict[str, list[float]] = {name: [] for name in methods}
    for turn in range(ROUNDS):
        for name, (fn, n) in methods.items():
            for _ in range(n // ROUNDS + (turn < n % ROUNDS)):
                start = time.perf_counter()
                fn(y)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items() if t}


def fft_only(seconds: float, config: features.FeatureConfig) -> Callable[[np.ndarray], object]:
    """Only the FFTs our extractor runs on an utterance of this length: the STFT (one rfft per
    frame) and the YIN cross-correlation (two rffts and one irfft per pitch frame)."""
    from scipy import fft as sfft

    from streamer.features.plan import plan

    geometry = plan(config).pitch
    count = 1 + int(seconds * SR) // config.hop_length
    pitch_count = -(-count // config.pitch_stride)
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((count, config.n_fft)).astype(np.float32)
    pairs = rng.standard_normal((2 * pitch_count, geometry.n_fft)).astype(np.float32)

    def run(_: np.ndarray) -> None:
        sfft.rfft(frames, axis=1)
        spectra = sfft.rfft(pairs, axis=1)
        sfft.irfft(spectra[:pitch_count] * spectra[pitch_count:], n=geometry.n_fft, axis=1)

    return run


def print_floor(
    audio: dict[float, np.ndarray], four: dict[str, float], config: features.FeatureConfig,
    repeats: int,
) -> None:
    """What bounds our time from below, measured the same way: the FFTs of a 4 s utterance, and
    a 0.25 s utterance (the shortest the extractor is specified for), whose time is almost all
    per-call overhead of the ~350 numpy calls the extractor makes."""
    short = audio[4.0][: SR // 4]
    fixed = median_times_ms(
        {"ours": (functools.partial(features.extract_vector, config=config), repeats)}, short
    )["ours"]
    ffts = median_times_ms({"fft": (fft_only(4.0, config), repeats)}, audio[4.0])["fft"]
    print(f"ours_0.25s_ms: {fixed:.3f}  (per-utterance cost that does not grow with length)")
    print(f"fft_only_4s_ms: {ffts:.3f}  (scipy.fft alone, same shapes as our 4 s extraction)")
    print(f"budget_10x_4s_ms: {four['librosa+yin'] / 10:.3f}  (librosa+yin at 4 s / 10)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for a smoke test")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per method")
    parser.add_argument("--lengths", type=float, nargs="+", default=None, help="seconds")
    parser.add_argument("--no-pyin", action="store_true", help="skip librosa+pyin (slow)")
    parser.add_argument("--no-opensmile", action="store_true", help="skip openSMILE")
    parser.add_argument(
        "--pitch-stride", type=int, choices=(1, 2), default=CFG.pitch_stride,
        help="time our extractor with F0 every frame (1) or every other frame (2, default)",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    lengths = args.lengths or ([1.0, 4.0] if args.quick else [1.0, 2.0, 4.0, 8.0])
    repeats = args.repeats or (3 if args.quick else 30)
    pyin_repeats = max(1, min(repeats, 3))
    pinned = pin_to_one_cpu()
    audio, source = utterances(lengths)

    ours_config = dataclasses.replace(CFG, pitch_stride=args.pitch_stride)
    methods: dict[str, tuple[Callable[[np.ndarray], object], int]] = {
        "ours": (functools.partial(features.extract_vector, config=ours_config),
                 repeats * (10 if not args.quick else 1)),
        "librosa+yin": (librosa_pipeline("yin"), repeats),
    }
    if not args.quick:
        methods["librosa/call+yin"] = (librosa_pipeline("yin", shared_stft=False), repeats)
    if not args.no_pyin and not args.quick:
        methods["librosa+pyin"] = (librosa_pipeline("pyin"), pyin_repeats)
    smile = None if args.no_opensmile else opensmile_pipeline()
    if smile is not None:
        methods["opensmile"] = (smile, repeats)

    print(f"audio: {source}; {pinned}; threads=1; malloc tuning: {runtime.tune_malloc()}")
    print(f"feature spec v{features.FEATURE_VERSION}: {len(features.FRAME_FEATURE_NAMES)} frame "
          f"descriptors, {len(features.FEATURE_NAMES)} functionals; pitch_stride="
          f"{ours_config.pitch_stride}")
    header = f"{'length':>7} " + " ".join(f"{name + ' ms':>16}" for name in methods)
    print(header + f" {'ours RTF':>10} {'x librosa':>10}")
    results: dict[float, dict[str, float]] = {}
    for seconds in lengths:
        y = audio[seconds]
        row = median_times_ms(methods, y)
        results[seconds] = row
        rtf = row["ours"] / 1e3 / seconds
        cells = " ".join(f"{row[name]:16.2f}" for name in methods)
        print(f"{seconds:6.1f}s {cells} {rtf:10.5f} {row['librosa+yin'] / row['ours']:10.1f}")

    four = results.get(4.0)
    if four is not None:
        print(f"ours_4s_ms: {four['ours']:.3f}")
        if not args.quick:
            print_floor(audio, four, ours_config, repeats * 10)
    for name in ("librosa/call+yin", "librosa+pyin", "opensmile"):
        if name in methods:
            ratio = statistics.median(r[name] / r["ours"] for r in results.values())
            label = name.replace("librosa/call+yin", "librosa_per_call").replace("+", "_")
            print(f"speedup_vs_{label}: {ratio:.1f}")
    speedup = statistics.median(r["librosa+yin"] / r["ours"] for r in results.values())
    print(f"speedup_vs_librosa: {speedup:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

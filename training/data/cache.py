"""Per-clip feature cache and (parallel) extraction with a progress bar.

A cache entry is keyed by the front-end's ``spec`` (the functionals' feature spec, or the
encoder's sha256 and its pooling and level rule), the clip's resolved path, size and mtime, how
clips are cut, and (for augmented copies) the copy index, seed, augmentation version and babble
sources. Changing the front-end therefore misses the cache automatically; old entries live in
a sibling folder and can be deleted. The encoder is frozen, so its pooled outputs are cached
like any other vector: a rerun with a warm cache does not run it again.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from training.data import audio
from training.data.augment import augment
from training.data.frontend import FUNCTIONALS, FrontendChoice

AUGMENT_VERSION = "3"  # bump when augment.py changes what it produces (3: more phone lines)


@dataclass(frozen=True)
class Job:
    path: Path
    variant: int = 0  # 0 = the clip as recorded, k > 0 = k-th augmented copy
    seed: int = 0
    babble: tuple[Path, ...] = ()
    prep: audio.Preparation | None = None  # how clips are cut (default: config.toml's)


@dataclass(frozen=True)
class Extracted:
    vectors: np.ndarray  # (n_jobs, n_features) float32
    frames: list[np.ndarray] | None  # per job (n_frames, n_frame_features) float16, if asked


_built: dict[FrontendChoice, object] = {}  # one front-end per choice per process


def frontend_of(choice: FrontendChoice):  # noqa: ANN201 (a FrontEnd)
    if choice not in _built:
        _built[choice] = choice.build()
    return _built[choice]


def spec_digest(choice: FrontendChoice) -> str:
    return hashlib.sha1(frontend_of(choice).spec.encode()).hexdigest()[:12]


def _file_id(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def job_key(job: Job, choice: FrontendChoice) -> str:
    parts = [
        frontend_of(choice).spec,
        audio.preparation_key(_prep(job)),
        _file_id(job.path),
        str(job.variant),
    ]
    if job.variant:
        parts += [AUGMENT_VERSION, str(job.seed)] + [_file_id(p) for p in job.babble]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def cache_path(cache_dir: Path, job: Job, choice: FrontendChoice = FUNCTIONALS) -> Path:
    key = job_key(job, choice)
    return cache_dir / spec_digest(choice) / key[:2] / f"{key}.npz"


def _prep(job: Job) -> audio.Preparation:
    return job.prep if job.prep is not None else audio.default_preparation()


def job_audio(job: Job) -> np.ndarray:
    """The samples a job stands for: the trimmed clip, or a deterministic augmented copy."""
    prep = _prep(job)
    samples = audio.load(job.path, prep)
    if job.variant == 0:
        return samples
    rng = np.random.default_rng([job.seed, job.variant, zlib.crc32(str(job.path.name).encode())])
    return augment(samples, rng, lambda: [audio.load(p, prep) for p in job.babble])


def compute(job: Job, choice: FrontendChoice = FUNCTIONALS) -> tuple[np.ndarray, np.ndarray]:
    """(vector, frames) of a job; frames only for the functionals (frame-level models)."""
    samples = job_audio(job)
    if choice.name == "functionals":
        from streamer import features

        extracted = features.extract(samples)
        return extracted.vector.astype(np.float32), extracted.frames.astype(np.float16)
    vector = frontend_of(choice).vector(samples)
    return np.asarray(vector, dtype=np.float32), np.zeros((0, 0), np.float16)


def _compute_and_store(
    args: tuple[Job, Path | None, FrontendChoice],
) -> tuple[np.ndarray, np.ndarray]:
    job, target, choice = args
    vector, frames = compute(job, choice)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, vector=vector, frames=frames)
        os.replace(tmp, target)  # atomic: a killed run never leaves half a file
    return vector, frames


def _load(target: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(target) as data:
            return data["vector"], data["frames"]
    except (OSError, KeyError, ValueError):
        return None


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not show,
        transient=False,
    )


def _init_worker() -> None:
    """Extraction processes run their BLAS on one thread and keep freed pages mapped."""
    from streamer.features.runtime import tune_malloc

    tune_malloc()


def _run_missing(
    work: list[tuple[Job, Path | None, FrontendChoice]],
    workers: int,
    done: Callable[[int, tuple[np.ndarray, np.ndarray]], None],
) -> None:
    if workers > 1 and len(work) > 8:
        # spawn, not fork: a parent that already ran the encoder must not fork its runtime.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
            for i, result in enumerate(pool.map(_compute_and_store, work, chunksize=4)):
                done(i, result)
    else:
        for i, item in enumerate(work):
            done(i, _compute_and_store(item))


def extract_jobs(
    jobs: Sequence[Job],
    cache_dir: Path | None,
    want_frames: bool = False,
    workers: int = 2,
    description: str = "features",
    show_progress: bool = True,
    frontend: FrontendChoice = FUNCTIONALS,
) -> Extracted:
    """Features for every job, from the cache where possible; ``cache_dir=None`` disables it."""
    vectors: list[np.ndarray | None] = [None] * len(jobs)
    frames: list[np.ndarray | None] = [None] * len(jobs)
    missing: list[int] = []
    work: list[tuple[Job, Path | None, FrontendChoice]] = []
    for i, job in enumerate(jobs):
        target = cache_path(cache_dir, job, frontend) if cache_dir is not None else None
        hit = _load(target) if target is not None and target.is_file() else None
        if hit is None:
            missing.append(i)
            work.append((job, target, frontend))
        else:
            vectors[i], frames[i] = hit
    with _progress(show_progress) as progress:
        task = progress.add_task(
            f"{description} ({len(jobs) - len(missing)} cached)", total=len(missing)
        )

        def done(k: int, result: tuple[np.ndarray, np.ndarray]) -> None:
            vectors[missing[k]], frames[missing[k]] = result
            progress.advance(task)

        _run_missing(work, workers, done)
    stacked = np.stack([v for v in vectors if v is not None]).astype(np.float32)
    return Extracted(
        vectors=stacked, frames=[f for f in frames if f is not None] if want_frames else None
    )


class CachedFrontEnd:
    """A front-end whose vectors are cached on disk by the exact samples they came from.

    Calls replayed through the engine are cut the same way on every run (a fixed seed, the same
    settings), so a second run, or the same calls under another head, normaliser or threshold,
    never runs the encoder again. Keyed by the front-end's spec and a digest of the samples.
    """

    def __init__(self, frontend, folder: Path) -> None:  # noqa: ANN001 (a FrontEnd)
        self._inner = frontend
        self.name = frontend.name
        self.spec = frontend.spec
        self.names = frontend.names
        self.level_column = frontend.level_column
        spec = hashlib.sha1(frontend.spec.encode()).hexdigest()[:12]
        self._folder = Path(folder) / "segments" / spec

    def to_metadata(self) -> dict[str, str]:
        return self._inner.to_metadata()

    def vector(self, samples: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(samples, dtype=np.float32)
        key = hashlib.sha1(data.tobytes()).hexdigest()
        target = self._folder / key[:2] / f"{key}.npy"
        try:
            return np.load(target)
        except (OSError, ValueError):
            pass
        vector = np.asarray(self._inner.vector(data), dtype=np.float64)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{key}.{os.getpid()}.tmp.npy")
        np.save(tmp, vector)
        os.replace(tmp, target)
        return vector

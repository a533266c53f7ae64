"""Per-clip feature cache and (parallel) extraction with a progress bar.

A cache entry is keyed by the extractor's ``feature_spec()``, the clip's resolved path, size and
mtime, and (for augmented copies) the copy index, seed, augmentation version and babble sources.
Changing ``streamer/features`` (a new FEATURE_VERSION / spec) therefore misses the cache
automatically; old entries live in a sibling folder and can be deleted.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from streamer import features
from training.data import audio
from training.data.augment import augment

AUGMENT_VERSION = "1"  # bump when augment.py changes what it produces


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


def spec_digest() -> str:
    return hashlib.sha1(features.feature_spec().encode()).hexdigest()[:12]


def _file_id(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def job_key(job: Job) -> str:
    parts = [
        features.feature_spec(),
        audio.preparation_key(_prep(job)),
        _file_id(job.path),
        str(job.variant),
    ]
    if job.variant:
        parts += [AUGMENT_VERSION, str(job.seed)] + [_file_id(p) for p in job.babble]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def cache_path(cache_dir: Path, job: Job) -> Path:
    key = job_key(job)
    return cache_dir / spec_digest() / key[:2] / f"{key}.npz"


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


def compute(job: Job) -> tuple[np.ndarray, np.ndarray]:
    extracted = features.extract(job_audio(job))
    return extracted.vector.astype(np.float32), extracted.frames.astype(np.float16)


def _compute_and_store(args: tuple[Job, Path | None]) -> tuple[np.ndarray, np.ndarray]:
    job, target = args
    vector, frames = compute(job)
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


def extract_jobs(
    jobs: Sequence[Job],
    cache_dir: Path | None,
    want_frames: bool = False,
    workers: int = 2,
    description: str = "features",
    show_progress: bool = True,
) -> Extracted:
    """Features for every job, from the cache where possible; ``cache_dir=None`` disables it."""
    vectors: list[np.ndarray | None] = [None] * len(jobs)
    frames: list[np.ndarray | None] = [None] * len(jobs)
    missing: list[int] = []
    targets: list[Path | None] = []
    for i, job in enumerate(jobs):
        target = cache_path(cache_dir, job) if cache_dir is not None else None
        hit = _load(target) if target is not None and target.is_file() else None
        if hit is None:
            missing.append(i)
            targets.append(target)
        else:
            vectors[i], frames[i] = hit
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=not show_progress,
        transient=False,
    )
    with progress:
        task = progress.add_task(
            f"{description} ({len(jobs) - len(missing)} cached)", total=len(missing)
        )
        work = [(jobs[i], t) for i, t in zip(missing, targets, strict=True)]
        if workers > 1 and len(work) > 8:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = pool.map(_compute_and_store, work, chunksize=4)
                for i, (vector, frame) in zip(missing, results, strict=True):
                    vectors[i], frames[i] = vector, frame
                    progress.advance(task)
        else:
            for i, item in zip(missing, work, strict=True):
                vectors[i], frames[i] = _compute_and_store(item)
                progress.advance(task)
    stacked = np.stack([v for v in vectors if v is not None]).astype(np.float32)
    return Extracted(
        vectors=stacked, frames=[f for f in frames if f is not None] if want_frames else None
    )

"""Clips + features + fold assignment + augmented copies, in the layout the trainers consume."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data import audio, cache
from training.data.clips import Clip, labels_in
from training.data.frontend import FUNCTIONALS, FrontendChoice
from training.evaluation import metrics as evaluate


@dataclass
class Dataset:
    clips: list[Clip]
    labels: tuple[str, ...]
    y: np.ndarray  # label index per clip
    fold: np.ndarray  # outer fold per clip
    vectors: np.ndarray  # (n_clips, D)
    frames: list[np.ndarray] | None
    aug_parent: np.ndarray  # clip index of every augmented copy
    aug_vectors: np.ndarray  # (n_aug, D)
    aug_frames: list[np.ndarray] | None
    aug_variant: np.ndarray | None = None  # k of the k-th copy of its clip

    @property
    def sessions(self) -> np.ndarray:
        """The stream each clip is normalised in: its corpus, or ``corpus/session`` when a
        manifest names the session (the corpus stays the part before the first ``/``)."""
        return np.array([f"{c.corpus}/{c.session}" if c.session else c.corpus for c in self.clips])

    @property
    def corpora(self) -> np.ndarray:
        """The corpus of each clip (corpora weigh equally, whatever their sessions)."""
        return np.array([c.corpus for c in self.clips])

    @property
    def aug_sessions(self) -> np.ndarray:
        """Augmented copies stream per corpus and variant (each variant is its own channel)."""
        variant = (
            self.aug_variant if self.aug_variant is not None else np.ones(len(self.aug_parent))
        )
        corpus = self.sessions
        return np.array(
            [f"{corpus[p]}/aug{int(k)}" for p, k in zip(self.aug_parent, variant, strict=True)],
            dtype=object,
        )

    @property
    def n_classes(self) -> int:
        return len(self.labels)


@dataclass
class TrainData:
    """Rows a trainer may fit on: original clips first, then augmented copies.

    ``group`` is the outer fold of each row's clip; trainers build inner validation folds from it,
    so a speaker (and its copies, and the babble made from its fold-mates) stays on one side.
    """

    vectors: np.ndarray
    frames: list[np.ndarray] | None
    y: np.ndarray
    group: np.ndarray
    is_aug: np.ndarray
    n_classes: int
    weight: np.ndarray | None = None  # per-row weight, e.g. so that each corpus counts equally


def augmented_jobs(
    clips: list[Clip], fold: np.ndarray, seed: int, n_aug: int, prep: audio.Preparation | None
) -> tuple[list[cache.Job], list[int], list[int]]:
    """The augmented copies of every clip: (jobs, parent clip, copy index). Babble comes from
    other speakers of the clip's corpus and fold group (see ``babble_sources``)."""
    jobs: list[cache.Job] = []
    parents: list[int] = []
    variants: list[int] = []
    for i, clip in enumerate(clips):
        sources = tuple(clips[j].path for j in evaluate.babble_sources(clips, fold, i, seed))
        for k in range(1, n_aug + 1):
            jobs.append(cache.Job(clip.path, variant=k, seed=seed, babble=sources, prep=prep))
            parents.append(i)
            variants.append(k)
    return jobs, parents, variants


def build(
    clips: Sequence[Clip],
    n_folds: int,
    seed: int,
    n_aug: int,
    cache_dir: Path | None,
    want_frames: bool,
    labels: tuple[str, ...] | None = None,
    show_progress: bool = True,
    workers: int = 2,
    prep: audio.Preparation | None = None,
    split: str = "speaker",
    frontend: FrontendChoice = FUNCTIONALS,
) -> Dataset:
    """``split="random"`` ignores speakers (leaky; only to compare with tutorials' figures)."""
    clips = list(clips)
    labels = labels or labels_in(clips)
    if split == "random":
        fold = evaluate.random_folds(clips, n_folds, seed)
    else:
        fold = evaluate.speaker_folds(clips, n_folds, seed)

    def extract(jobs: list[cache.Job], what: str) -> cache.Extracted:
        return cache.extract_jobs(
            jobs, cache_dir, want_frames, workers, what, show_progress, frontend=frontend
        )

    base = extract([cache.Job(c.path, prep=prep) for c in clips], "clips")
    aug_jobs, parents, variants = augmented_jobs(clips, fold, seed, n_aug, prep)
    if aug_jobs:
        aug = extract(aug_jobs, "augmented copies")
        aug_vectors, aug_frames = aug.vectors, aug.frames
    else:
        aug_vectors = np.zeros((0, base.vectors.shape[1]), np.float32)
        aug_frames = [] if want_frames else None
    return Dataset(
        clips=clips,
        labels=labels,
        y=np.array([labels.index(c.label) for c in clips]),
        fold=fold,
        vectors=base.vectors,
        frames=base.frames,
        aug_parent=np.array(parents, dtype=int),
        aug_vectors=aug_vectors,
        aug_frames=aug_frames,
        aug_variant=np.array(variants, dtype=int),
    )


def train_data(ds: Dataset, rows: np.ndarray, aug_rows: np.ndarray) -> TrainData:
    frames = None
    if ds.frames is not None and ds.aug_frames is not None:
        frames = [ds.frames[i] for i in rows] + [ds.aug_frames[i] for i in aug_rows]
    parents = ds.aug_parent[aug_rows]
    return TrainData(
        vectors=np.concatenate([ds.vectors[rows], ds.aug_vectors[aug_rows]]),
        frames=frames,
        y=np.concatenate([ds.y[rows], ds.y[parents]]),
        group=np.concatenate([ds.fold[rows], ds.fold[parents]]),
        is_aug=np.concatenate([np.zeros(len(rows), bool), np.ones(len(aug_rows), bool)]),
        n_classes=ds.n_classes,
    )


def subset_by_corpus(ds: Dataset, corpora: set[str]) -> Dataset:
    """The clips of ``corpora`` (and their augmented copies) as a dataset of their own, with
    the labels they carry: what a model trained without the other corpora sees."""
    rows = np.flatnonzero(np.isin(ds.corpora, sorted(corpora)))
    aug_rows = np.flatnonzero(np.isin(ds.aug_parent, rows))
    clips = [ds.clips[i] for i in rows]
    labels = labels_in(clips)
    remap = {old: new for new, old in enumerate(rows)}
    return Dataset(
        clips=clips,
        labels=labels,
        y=np.array([labels.index(c.label) for c in clips]),
        fold=ds.fold[rows],
        vectors=ds.vectors[rows],
        frames=[ds.frames[i] for i in rows] if ds.frames is not None else None,
        aug_parent=np.array([remap[int(p)] for p in ds.aug_parent[aug_rows]], dtype=int),
        aug_vectors=ds.aug_vectors[aug_rows],
        aug_frames=[ds.aug_frames[i] for i in aug_rows] if ds.aug_frames is not None else None,
        aug_variant=ds.aug_variant[aug_rows] if ds.aug_variant is not None else None,
    )

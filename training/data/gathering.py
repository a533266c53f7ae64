"""The clips a run trains on: built-in corpora (through the registry) and the user's own
manifests and folders, under the run's label plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from training.data import corpora
from training.data.clips import Clip, CorpusError


def smoke_subset(clips: list[Clip], n_speakers: int = 6, per_class: int = 1) -> list[Clip]:
    """A tiny but still speaker-grouped sample: a few speakers, a few clips per class each."""
    speakers = sorted({c.speaker for c in clips})[:n_speakers]
    taken: dict[tuple[str, str], int] = {}
    out = []
    for clip in clips:
        key = (clip.speaker, clip.label)
        if clip.speaker in speakers and taken.get(key, 0) < per_class:
            taken[key] = taken.get(key, 0) + 1
            out.append(clip)
    return out


def read_counted(cfg: Any, corpus: str) -> tuple[list[Clip], dict[str, int]]:
    """A built-in corpus's clips under the run's label plan, and how many each label dropped."""
    clips, dropped = cfg.plan.apply(corpora.read_corpus(cfg.data_dir, corpus))
    if not clips:
        raise CorpusError(f"no {corpus} clips keep a label of --labels")
    return (smoke_subset(clips) if cfg.smoke else clips), dict(sorted(dropped.items()))


def _own_corpora(cfg: Any, taken: set[str]) -> dict[str, list[Clip]]:
    """Every manifest's and folder's clips by corpus, in the order they appear (a corpus comes
    from one place only, and not from --corpora too)."""
    own: dict[str, list[Clip]] = {}
    origin: dict[str, str] = {}
    for source in cfg.sources:
        for clip in source.clips:
            if clip.corpus in taken:
                raise CorpusError(
                    f"{source.name}: corpus {clip.corpus!r} is also read by --corpora; "
                    "name the manifest's corpus otherwise"
                )
            if origin.setdefault(clip.corpus, source.name) != source.name:
                raise CorpusError(
                    f"{source.name}: corpus {clip.corpus!r} also comes from {origin[clip.corpus]}"
                )
            own.setdefault(clip.corpus, []).append(clip)
    return {k: smoke_subset(v) if cfg.smoke else v for k, v in own.items()}


def gather(
    cfg: Any, log: Callable[[str], None] = print
) -> tuple[dict[str, list[Clip]], dict[str, dict[str, int]]]:
    """Training clips per corpus: the built-in corpora, then the user's own; and the clips
    --labels left out of each built-in corpus (logged)."""
    per_corpus: dict[str, list[Clip]] = {}
    dropped: dict[str, dict[str, int]] = {}
    for name in cfg.corpora:
        per_corpus[name], left_out = read_counted(cfg, name)
        if left_out:
            dropped[name] = left_out
            counts = ", ".join(f"{k} {n}" for k, n in left_out.items())
            log(f"{name}: left out by --labels: {counts}")
    per_corpus.update(_own_corpora(cfg, set(per_corpus)))
    return per_corpus, dropped


def data_summary(
    cfg: Any, per_corpus: dict[str, list[Clip]], dropped: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """The data the model saw, for its card and metadata."""
    counts: dict[str, int] = {}
    for clips in per_corpus.values():
        for clip in clips:
            counts[clip.label] = counts.get(clip.label, 0) + 1
    out: dict[str, Any] = {
        "corpora": {k: len(v) for k, v in per_corpus.items()},
        "speakers": len({c.speaker for v in per_corpus.values() for c in v}),
        "clips_per_label": counts,
        "sources": [s.describe() for s in cfg.sources],
    }
    if dropped:
        out["dropped_by_labels"] = dropped  # built-in corpora; manifests count in "sources"
    if cfg.plan.keep is not None:
        out["labels_kept"] = list(cfg.plan.keep)
    if cfg.plan.rename:
        out["label_map"] = dict(cfg.plan.rename)
    return out

"""The label set a run trains on: ``--map old=new`` renames or merges, ``--labels`` keeps a subset.

The map applies first, so ``--map calm=neutral --labels neutral happy`` folds calm into neutral
and keeps it. Every label a model carries must be a plain name (``streamer.results.PLAIN_LABEL``):
labels reach CSV headers, HTML and the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from streamer.errors import InputError
from streamer.results import PLAIN_LABEL
from training.data.corpora import Clip

PLAIN_RULE = "letters, digits, '_' or '-', starting with a letter, at most 40 characters"


class LabelError(InputError, ValueError):
    """A --labels or --map argument that cannot define a label set."""


def is_plain(label: str) -> bool:
    return PLAIN_LABEL.fullmatch(label) is not None


@dataclass(frozen=True)
class LabelPlan:
    keep: tuple[str, ...] | None = None  # None: every label (after the map)
    rename: dict[str, str] = field(default_factory=dict)

    def label(self, raw: str) -> str | None:
        """The label a clip labelled ``raw`` trains as, or None when ``--labels`` drops it."""
        name = self.rename.get(raw, raw)
        if self.keep is not None and name not in self.keep:
            return None
        return name

    def apply(self, clips: Iterable[Clip]) -> tuple[list[Clip], Counter[str]]:
        """Clips relabelled and filtered, and how many of each (mapped) label were dropped."""
        kept: list[Clip] = []
        dropped: Counter[str] = Counter()
        for clip in clips:
            name = self.label(clip.label)
            if name is None:
                dropped[self.rename.get(clip.label, clip.label)] += 1
            else:
                kept.append(clip if name == clip.label else replace(clip, label=name))
        return kept, dropped

    @property
    def active(self) -> bool:
        return self.keep is not None or bool(self.rename)


def parse_plan(labels: Sequence[str] | None, maps: Sequence[str] | None) -> LabelPlan:
    """``--labels a b c`` and ``--map old=new`` (repeatable) -> a plan; LabelError names the
    first bad argument."""
    rename: dict[str, str] = {}
    for item in maps or ():
        old, sep, new = item.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise LabelError(f"--map {item!r}: expected OLD=NEW, e.g. --map calm=neutral")
        if not is_plain(new):
            raise LabelError(f"--map {item!r}: {new!r} is not a plain label name ({PLAIN_RULE})")
        if old in rename and rename[old] != new:
            raise LabelError(f"--map {item!r}: {old!r} is already mapped to {rename[old]!r}")
        rename[old] = new
    keep = None
    if labels is not None:
        bad = [name for name in labels if not is_plain(name)]
        if bad:
            raise LabelError(f"--labels: {bad[0]!r} is not a plain label name ({PLAIN_RULE})")
        keep = tuple(dict.fromkeys(labels))
        if len(keep) < 2:
            raise LabelError("--labels needs at least two labels")
    return LabelPlan(keep=keep, rename=rename)


def check_present(plan: LabelPlan, clips: Sequence[Clip]) -> None:
    """Refuse a --labels name that no clip carries: its recall could never be measured."""
    if plan.keep is None:
        return
    present = {c.label for c in clips}
    missing = [name for name in plan.keep if name not in present]
    if missing:
        raise LabelError(
            f"label {missing[0]!r} has no examples in the training data "
            f"(labels present: {', '.join(sorted(present)) or 'none'})"
        )

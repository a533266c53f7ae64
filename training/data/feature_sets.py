"""Named subsets of the utterance vector a model may read; one front-end computes them all.

``all`` is every column of the run's front-end (the 880 functionals, or the whisper encoder's
pooled states); the others name functionals and need a front-end that has them. ``prosodic``
is the 152 prosodic / voice-quality functionals (pitch, voicing, jitter, shimmer, HNR,
loudness, RMS level, spectral balance, rhythm); ``mfcc_chroma_mel`` the tutorials' recipe. The
default is chosen by leave-one-corpus-out accuracy (models/README.md has the comparison).
"""

from __future__ import annotations

PROSODIC_ROOTS = (
    "f0_st",
    "voicing",
    "voiced",
    "jitter",
    "shimmer_db",
    "hnr_db",
    "loudness",
    "rms_db",
    "alpha_ratio_db",
    "hammarberg_db",
    "slope_0_500",
    "slope_500_1500",
)


def _root(name: str) -> str:
    return name.split("__")[0]


def prosodic() -> tuple[str, ...]:
    from streamer import features

    return tuple(n for n in features.FEATURE_NAMES if "__" not in n or _root(n) in PROSODIC_ROOTS)


def mfcc_chroma_mel() -> tuple[str, ...]:
    """The tutorials' recipe: per-utterance means of MFCC, chroma and mel bands. Ours has 13
    MFCCs, 12 chroma bins and 40 log-mel bands (the tutorials: 40 MFCCs, 12 chroma, 128 mel
    powers), 65 columns."""
    from streamer import features

    roots = ("mfcc_", "chroma_", "logmel_db_")
    return tuple(
        n
        for n in features.FEATURE_NAMES
        if n.endswith("__mean") and n.startswith(roots) and not n.startswith("mfcc_d")
    )


FEATURE_SETS = {
    "all": lambda: (),  # every column of the front-end
    "prosodic": prosodic,
    "mfcc_chroma_mel": mfcc_chroma_mel,
}
DEFAULT_FEATURE_SET = "all"


def columns(name: str, names: tuple[str, ...] | None = None) -> tuple[int, ...]:
    """Positions of the set's columns in a front-end's vector (``names``, default: the 880
    functionals'); a set the front-end does not compute is a one-line ConfigError."""
    from streamer import features
    from streamer.errors import ConfigError

    names = tuple(features.FEATURE_NAMES) if names is None else names
    if name == "all":
        return tuple(range(len(names)))
    position = {n: i for i, n in enumerate(names)}
    wanted = FEATURE_SETS[name]()
    missing = [n for n in wanted if n not in position]
    if missing:
        raise ConfigError(f"--feature-set {name} names functionals this front-end lacks")
    return tuple(position[n] for n in wanted)

"""Named subsets of the utterance vector a model may read; one extractor computes them all.

``prosodic`` is the 152 prosodic / voice-quality functionals (pitch, voicing, jitter, shimmer,
HNR, loudness, RMS level, spectral balance, rhythm) that led on unseen corpora in issue 10's
multi-corpus test; ``all`` is every one of the 880 values. The default is chosen by
leave-one-corpus-out accuracy (models/README.md has the comparison).
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


def _all() -> tuple[str, ...]:
    # The extractor (numpy, scipy) loads when a set is asked for, not for ser-train --version.
    from streamer import features

    return tuple(features.FEATURE_NAMES)


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
    "all": _all,
    "prosodic": prosodic,
    "mfcc_chroma_mel": mfcc_chroma_mel,
}
DEFAULT_FEATURE_SET = "all"


def columns(name: str) -> tuple[int, ...]:
    from streamer import features

    names = FEATURE_SETS[name]()
    position = {n: i for i, n in enumerate(features.FEATURE_NAMES)}
    return tuple(position[n] for n in names)

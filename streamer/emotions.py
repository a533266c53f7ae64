"""How emotion labels are presented: colours, the arousal/valence mapping, the "uncertain" gate and
the smoothed trend. The live view, the headless lines and ``ser-report`` all use this module, so a
label looks and is judged the same everywhere.

Arousal/valence mapping
-----------------------
Each label has a fixed point (valence, arousal) in [-1, 1]², placed after Russell's circumplex
of affect (Russell 1980, "A circumplex model of affect"): valence runs from unpleasant (-1) to
pleasant (+1), arousal from sleepy/passive (-1) to activated (+1). The points are rounded positions
of the nearest circumplex terms (calm ~ "calm/relaxed", happy ~ "happy/glad", sad ~ "sad/gloomy",
angry ~ "angry", fearful ~ "afraid/alarmed", surprised ~ "astonished", boredom ~ "bored");
disgust, which Russell does not place, sits at unpleasant and moderately aroused as in Scherer's
(2005) Geneva emotion wheel; neutral is the origin.

An utterance's (valence, arousal) is the probability-weighted mean of its labels' points, taking
only labels in :data:`CIRCUMPLEX` and renormalising their probabilities. A confident "angry" lands
near (-0.6, +0.8); a prediction spread over many classes lands near the centre. Quadrants are
named excited (+V +A), tense (-V +A), low (-V -A) and relaxed (+V -A); near the centre is "even".

Uncertain gate
--------------
When an utterance's confidence (its largest probability) is below the run's threshold (the
model's own, or ``ui.uncertain_below``: :func:`uncertain_threshold`) it is shown as
``uncertain``. The wording is decided here, once, for the live view, the stdout lines, the logs
and the reports: :func:`shown_label` (``angry`` or ``uncertain``: the logs' ``shown`` column,
the lines' ``emotion=``) and :func:`shown_text` (``angry 72 %`` or
``uncertain (leaning sad 38 %)``: what people read). Logs (CSV, JSONL) also keep the arg-max
label, the confidence and every probability, so ``uncertain (leaning sad 38 %)`` is a row's
``shown``, ``label`` and ``confidence``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from streamer.results import Prediction

UNCERTAIN = "uncertain"


def uncertain_threshold(
    setting: float, from_model: bool, model_choice: float | None, override: float | None = None
) -> float:
    """The confidence under which a label is shown as uncertain, decided in this one place:
    an explicit ``override`` (a flag, the API's setter), else the model's own choice (made on
    held-out corpora) when ``ui.uncertain_from_model`` allows it, else ``ui.uncertain_below``."""
    if override is not None:
        return override
    if from_model and model_choice is not None:
        return model_choice
    return setting

# One colour per label, as hex so Rich (terminal) and matplotlib (reports) share it. Chosen to be
# told apart on dark terminals and on white paper; neutral is light and uncertain is dark grey.
COLOURS: dict[str, str] = {
    "neutral": "#b4bcc8",
    "calm": "#3fc1b0",
    "happy": "#ffcc33",
    "sad": "#4a86e8",
    "angry": "#e8453c",
    "fearful": "#a46cf0",
    "disgust": "#7fb03a",
    "surprised": "#ff8f3f",
    "boredom": "#a88a7c",
    UNCERTAIN: "#6b7078",
}
# Labels a model may bring that are not above get one of these, chosen by a stable hash.
_SPARE_COLOURS = ("#f06fa8", "#2fb4d8", "#c7a12b", "#9c5fb5", "#5fbf8f", "#d9775c")

# (valence, arousal) per label; see the module docstring for where the numbers come from.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "calm": (0.6, -0.6),
    "happy": (0.85, 0.35),
    "sad": (-0.8, -0.4),
    "angry": (-0.6, 0.8),
    "fearful": (-0.3, 0.8),
    "disgust": (-0.7, 0.3),
    "surprised": (0.2, 0.85),
    "boredom": (-0.4, -0.75),
}

EVEN_RADIUS = 0.2  # closer than this to the centre, the mood is "even" rather than a quadrant


def colour_of(label: str) -> str:
    """Hex colour of a label (or of ``uncertain``); unknown labels get a stable spare colour."""
    known = COLOURS.get(label)
    if known is not None:
        return known
    return _SPARE_COLOURS[zlib.crc32(label.encode("utf-8")) % len(_SPARE_COLOURS)]


def shown_label(prediction: Prediction, uncertain_below: float) -> str:
    """The label people see: the arg-max, or ``uncertain`` when confidence < ``uncertain_below``."""
    return UNCERTAIN if prediction.confidence < uncertain_below else prediction.label


def percent(fraction: float) -> str:
    """A probability as people read it here: ``38 %`` (whole percent, a space before the sign)."""
    return f"{fraction * 100:.0f} %" if math.isfinite(fraction) else "- %"


def shown_detail(prediction: Prediction, uncertain_below: float) -> str:
    """What follows the shown label: ``72 %``, or ``(leaning sad 38 %)`` for an uncertain one."""
    if shown_label(prediction, uncertain_below) == UNCERTAIN:
        return f"(leaning {prediction.label} {percent(prediction.confidence)})"
    return percent(prediction.confidence)


def shown_text(prediction: Prediction, uncertain_below: float) -> str:
    """The one wording of a result for people: ``angry 72 %``, ``uncertain (leaning sad 38 %)``."""
    return f"{shown_label(prediction, uncertain_below)} {shown_detail(prediction, uncertain_below)}"


def shown_width(labels: Sequence[str]) -> int:
    """Characters :func:`shown_text` can take for a model's ``labels`` (for aligned columns)."""
    longest = max((len(label) for label in labels), default=0)
    return max(len(UNCERTAIN) + len(" (leaning  100 %)") + longest, longest + len(" 100 %"))


def affect(labels: Sequence[str], probabilities: Sequence[float]) -> tuple[float, float] | None:
    """Probability-weighted (valence, arousal) of a distribution over ``labels``.

    None when no label has a circumplex position (or they carry no probability).
    """
    total = valence = arousal = 0.0
    for label, p in zip(labels, probabilities, strict=True):
        point = CIRCUMPLEX.get(label)
        if point is None or not math.isfinite(p) or p <= 0:
            continue
        total += p
        valence += p * point[0]
        arousal += p * point[1]
    if total <= 0:
        return None
    return valence / total, arousal / total


def mood_word(valence: float, arousal: float) -> str:
    """Name of the circumplex quadrant a point lies in ("even" near the centre)."""
    if math.hypot(valence, arousal) < EVEN_RADIUS:
        return "even"
    if arousal >= 0:
        return "excited" if valence >= 0 else "tense"
    return "relaxed" if valence >= 0 else "low"


def trend(predictions: Sequence[Prediction], alpha: float) -> list[np.ndarray]:
    """Smoothed probabilities after each prediction: an exponential moving average over
    utterances, ``e_k = alpha * p_k + (1 - alpha) * e_(k-1)``, starting from the first one.

    ``alpha`` in (0, 1] is the weight of the newest utterance (1 = no smoothing).
    """
    smoothed: list[np.ndarray] = []
    state: np.ndarray | None = None
    for prediction in predictions:
        p = np.asarray(prediction.probabilities, dtype=np.float64)
        state = p if state is None else alpha * p + (1.0 - alpha) * state
        smoothed.append(state)
    return smoothed

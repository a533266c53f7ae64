"""``python -m training.evaluation.call_eval MODEL CORPUS``: a corpus replayed as one long call
through ser-live's pipeline and scored clip by clip (see
:func:`training.evaluation.robustness.call_scores`).

Use it on a corpus the model never heard, e.g. a RAVDESS-only model on EmoDB."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from streamer.settings import load_settings
from training.data import audio, corpora
from training.evaluation import robustness


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.evaluation.call_eval", description=__doc__)
    p.add_argument("model", type=Path)
    p.add_argument("corpus", choices=list(corpora.CORPORA))
    p.add_argument("--clips", type=int, default=0, help="random clips to use (0 = all)")
    p.add_argument("--seed", type=int, default=1234)
    args = p.parse_args(argv)
    settings = load_settings()
    clips = corpora.read_corpus(settings.data.dir, args.corpus)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(clips))[: args.clips or None]
    chosen = [clips[i] for i in order]
    scores = robustness.call_scores(
        args.model,
        [
            audio.load(c.path, audio.Preparation(settings.vad, settings.segmenter), trim=False)
            for c in chosen
        ],
        [c.label for c in chosen],
        settings.vad,
        settings.segmenter,
        seed=args.seed,
    )
    print(
        f"{args.model} on {args.corpus} as one call ({scores.clips} clips, "
        f"{scores.utterances} rows, {scores.matched} clips covered): UA shared "
        f"{scores.ua_shared:.3f}, UA 4-class {scores.ua_4class:.3f}, WA 4-class "
        f"{scores.wa_4class:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

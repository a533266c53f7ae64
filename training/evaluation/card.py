"""Model card (README.md next to the model) generated from a training run's figures."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np

from streamer import features
from training.data import corpora
from training.evaluation.metrics import LEAKY
from training.run import RunReport


def _selection_note(report: RunReport) -> str:
    if report.config.model_type != "blend":
        return (
            "- The recipe (model type, C, feature set, augmentation, normaliser windows) was "
            "chosen by comparing leave-one-corpus-out UA on RAVDESS <-> EmoDB (README, 'The "
            "shipped model'), which makes those two figures slightly optimistic; the private "
            "recordings in other languages are the test that is not.\n"
        )
    return (
        "- `blend` averages logistic regression + shrinkage LDA (the `linear` model) with an RBF "
        "SVM on the leading principal components of the standardised vector. In every outer fold "
        "the C of each part, the SVM's share (0, ¼, ½, ¾ or 1, so also linear-only or "
        "SVM-only) and the temperature are chosen on the inner folds' out-of-fold predictions; "
        "the outer figures are therefore nested. Adding the SVM, its C grid and the PCA size "
        "were decided during development from inner-fold scores only.\n"
    )


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f} %"  # NaN-safe


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def confusion_table(labels: tuple[str, ...], cm: list[list[int]]) -> str:
    header = ["true \\ predicted", *labels, "recall"]
    rows = []
    for label, row in zip(labels, cm, strict=True):
        total = sum(row)
        recall = row[labels.index(label)] / total if total else float("nan")
        rows.append([f"**{label}**", *map(str, row), _pct(recall)])
    return _table(header, rows)


def mapping_table() -> str:
    """The label mapping table from the corpus registry (single source of truth)."""
    return corpora.mapping_table()


def plot_confusion(labels: tuple[str, ...], cm: list[list[int]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    m = np.asarray(cm, dtype=float)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                f"{norm[i, j]:.2f}",
                ha="center",
                va="center",
                color="white" if norm[i, j] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Speaker-independent CV (out-of-fold), row-normalised")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def unseen_voices(report: RunReport) -> str:
    """The headline: how the recipe does on a corpus it never saw, end to end."""
    cmd = report.config.command
    out = ["## Voices, languages and microphones the model never heard\n"]
    out.append(
        "Leave one corpus out: the same recipe (model type, feature set, stream normaliser) "
        "trained on all of one corpus, tested on the other corpus streamed through the "
        "normaliser as `ser-live` streams a call (clips in a seeded random order, cold start "
        "from the training prior, no labels used). UA is over the classes both corpora "
        "share, and over neutral/happy/sad/angry (arg-max over those four), as the private "
        f"recordings are scored. Measured by `{cmd}`.\n"
    )
    rows = []
    for c in report.cross:
        if c.scores is None:
            continue
        four = c.four_class
        rows.append(
            [
                f"{c.train} → {c.test}",
                f"**{_pct(c.scores.ua)}**",
                _pct(c.scores.wa),
                f"{len(c.classes)} ({_pct(1 / len(c.classes))})",
                f"**{_pct(four.ua)}**" if four else "n/a",
                _pct(four.wa) if four else "n/a",
                str(c.scores.n),
            ]
        )
    if rows:
        out.append(
            _table(
                [
                    "train → test",
                    "UA shared",
                    "WA shared",
                    "classes (chance)",
                    "UA 4-class",
                    "WA 4-class",
                    "clips",
                ],
                rows,
            )
        )
    else:
        out.append("Not run" + (f" ({'; '.join(report.notes)})" if report.notes else "") + ".")
    ravdess = report.corpus_cv_ua.get("ravdess")
    if ravdess is not None:
        out.append(
            f"\nActor-independent RAVDESS cross-validation (8 classes, arg-max over RAVDESS's "
            f"labels, out-of-fold, EmoDB in every training part): UA **{_pct(ravdess)}**."
        )
    if report.loco_ece is not None:
        before, after = report.loco_ece
        out.append(
            f"\n**Calibration on held-out corpora.** One temperature T = "
            f"{report.loco_temperature:.2f} fitted on the pooled leave-one-corpus-out "
            f"predictions: ECE {before:.3f} before, {after:.3f} after (15 bins). "
            f"`ui.uncertain_below` chosen there: **{report.uncertain_below:.2f}** (the lowest "
            "confidence from which held-out labels are right at least half the time, else the "
            "one whose labels are most often right; stored in the model, and ser-live uses it "
            "unless `ui.uncertain_from_model = false`)."
        )
    if report.precision_curve:
        rows = [
            [f"{t:.2f}", _pct(share), _pct(right)]
            for t, share, right in report.precision_curve
            if share > 0
        ]
        out.append("\nHeld-out-corpus labels by confidence (after the temperature):\n")
        out.append(_table(["confidence at least", "share of utterances", "right"], rows))
    flips = report.gain_flips
    if flips is not None:
        shares = ", ".join(f"{k}: **{_pct(v)}**" for k, v in flips.shares.items())
        out.append(
            f"\n**Gain flips.** The RAVDESS-trained model on a long call of EmoDB clips it "
            f"never heard (0.8-1.6 s pauses, peak -8 dBFS), replayed end to end through the "
            f"segmenter (with its gain staging), normaliser and gate at other gains; share of "
            f"the {flips.utterances} utterances at 0 dB whose label changes or that vanish: "
            f"{shares} (targets: <= 10 % at ±6 dB, <= 20 % at -20 dB)."
        )
    ns = report.non_speech
    if ns is not None:
        rows_total = sum(ns.rows.values())
        out.append(
            f"\n**Non-speech.** training/nonspeech.py's white, pink and brown noise, mains hum, "
            f"a pure tone, a chord progression and clicks ({len(ns.rows)} calls in all, at 0 "
            f"and -20 dB) replayed through the shipped model: {rows_total} rows logged, "
            f"**{ns.total_confident} confident** (at or above the uncertain threshold)."
        )
    return "\n".join(out) + "\n"


def data_section(report: RunReport) -> str:
    """Clips per label, and every manifest or folder by name and digest: the data the model saw."""
    data = report.data
    if not data:
        return ""
    counts = data.get("clips_per_label", {})
    out = ["\nClips per label (" + f"{data.get('speakers', '?')} speakers):\n\n"]
    out.append(_table(["label", "clips"], [[k, str(counts.get(k, 0))] for k in report.labels]))
    if data.get("sources"):
        out.append("\nRead from:\n")
    for source in data.get("sources", []):
        where = source.get("manifest") or source.get("folder")
        line = f"\n- {'manifest' if 'manifest' in source else 'folder'} `{where}`: "
        line += f"{source['clips']} clips"
        if "sha256" in source:
            line += f", sha256 `{source['sha256']}`"
        if source.get("unreadable_skipped"):
            line += f", {source['unreadable_skipped']} unreadable files skipped"
        if source.get("dropped_by_labels"):
            dropped = ", ".join(f"{k} {n}" for k, n in source["dropped_by_labels"].items())
            line += f", left out by --labels: {dropped}"
        out.append(line)
    if "label_map" in data:
        out.append(
            "\n\nLabels renamed or merged: "
            + ", ".join(f"{k} -> {v}" for k, v in data["label_map"].items())
        )
    if "labels_kept" in data:
        out.append("\n\nLabels kept (--labels): " + ", ".join(data["labels_kept"]))
    for corpus, left_out in data.get("dropped_by_labels", {}).items():
        counts = ", ".join(f"{k} {n}" for k, n in left_out.items())
        out.append(f"\n\nLeft out of {corpus} by --labels: {counts}")
    return "".join(out) + "\n"


def render(report: RunReport, image: str | None) -> str:
    cfg, cv = report.config, report.cv
    labels = report.labels
    chance = 1.0 / len(labels)
    ms = report.inference_ms
    kind = "RANDOM-SPLIT (leaky)" if cfg.split == "random" else "speaker-independent"
    out: list[str] = []
    out.append(f"# Model card: `{cfg.output.name}`")
    out.append(
        "Generated by `ser-train` from the run that produced the model (do not edit by hand; "
        "rerun the command below).\n"
        + (
            "\n> **SMOKE RUN** — a tiny CI run on a few speakers; its figures mean nothing.\n"
            if cfg.smoke
            else ""
        )
        + (f"\n> **{LEAKY}.**\n" if cfg.split == "random" else "")
    )
    out.append("## Summary\n")
    summary = [
        [
            "model type",
            f"`{report.metadata.get('model_type', cfg.model_type)}` "
            f"(input: {report.metadata.get('input_kind')})",
        ],
        ["classes", ", ".join(labels)],
        [
            f"{kind} UA, all corpora (mean of folds)",
            f"**{_pct(cv.mean_ua)}** ± {_pct(cv.std_ua)} (chance {_pct(chance)})",
        ],
        [
            "feature columns read / stream normaliser",
            f"{report.metadata.get('feature_set', 'all')} "
            f"({len(json.loads(report.metadata.get('columns', '[]'))) or 'all'}) / "
            + ("yes" if "normaliser" in report.metadata else "no"),
        ],
        [f"{kind} WA (mean of folds)", _pct(cv.mean_wa)],
        [
            "UA on the test speakers' augmented copies (noise, reverb, telephone…)",
            _pct(cv.augmented_test.ua) if cv.augmented_test else "n/a",
        ],
        [
            "calibration (ECE, pooled out-of-fold, with the held-out-corpus temperature)",
            f"{cv.pooled.ece:.3f}",
        ],
        ["model file", f"{report.model_bytes / 1024:.0f} KiB"],
        [
            "inference per 4 s utterance (1 core)",
            f"{ms['total_ms']:.2f} ms (features {ms['features_ms']:.2f} ms + model "
            f"{ms['model_ms']:.2f} ms)",
        ],
        [
            "feature extractor",
            f"`streamer/features` v{features.FEATURE_VERSION}, "
            f"{len(features.FEATURE_NAMES)}-dim vector / "
            f"{len(features.FRAME_FEATURE_NAMES)}-dim frames",
        ],
        [
            "training wall time",
            f"{report.wall_s / 60:.1f} min ({platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()})",
        ],
    ]
    out.append(_table(["", ""], summary))
    out.append("")
    out.append(unseen_voices(report))
    out.append("## Reproduce\n")
    out.append(
        "From the repository root, with the corpora under `data.dir` (config.toml) or "
        "`SER_DATA_DIR`, after `pip install -e '.[train,torch]'`:\n"
    )
    out.append(f"```\n{cfg.command}\n```\n")
    out.append(
        "Features are cached per clip in the training cache folder, keyed by the extractor's "
        "`feature_spec()`; when `streamer/features` changes (new `FEATURE_VERSION`), the "
        "shipped model no longer loads (`ModelError`) and the same command retrains it from "
        "scratch.\n"
    )
    out.append("## Data\n")
    rows = [[name, str(n)] for name, n in report.n_clips.items()]
    out.append(_table(["corpus", "clips"], rows))
    out.append(data_section(report))
    out.append(
        "\nAudio is read at 16 kHz mono through the sources' downmix and resampler and cut by "
        "the live segmenter itself (its gain stage primed with the clip's peak level, as in the "
        "middle of a call), then passed through the live extractor. No corpus audio is stored "
        "in this repository.\n"
    )
    out.append("Label mapping from each corpus to the common vocabulary:\n")
    out.append(mapping_table() + "\n")
    out.append("## Evaluation protocol\n")
    out.append(
        f"- {report.metadata.get('cv_method', '')}.\n"
        "- No speaker is in two folds; augmented copies of a clip are only used when that clip "
        "is in the training part of a fold; babble noise is mixed only from speakers of the same "
        "fold group, so no test voice leaks into training audio.\n"
        "- Every corpus (and every augmented variant of it) is normalised as its own stream, in "
        "a seeded order, through the normaliser ser-live runs; the test part of a fold is "
        "streamed from a cold start with the training part's prior. Corpora weigh the same.\n"
        "- Hyper-parameters on a grid are chosen on *inner* folds made of the training part's "
        "speakers (grouped by outer fold), never on the test fold; the shipped temperature and "
        "uncertain threshold come from the held-out corpora (above).\n"
        f"- {report.metadata.get('augmented_copies')} augmented copies per training clip: "
        "speed or pitch perturbation, synthetic room reverberation, additive white/pink/babble/"
        "hum noise at 0–30 dB SNR, telephone band, random level (-40…-12 dBFS) and clipping.\n"
        + _selection_note(report)
    )
    out.append("### Fold assignment\n")
    frows = []
    for fold, speakers in cv.fold_speakers.items():
        sc = cv.folds[fold]
        frows.append(
            [
                str(fold + 1),
                ", ".join(speakers),
                str(sc.n),
                _pct(sc.ua),
                _pct(sc.wa),
                f"{cv.temperatures[fold]:.2f}" if cv.temperatures else "",
            ]
        )
    frows.append(
        [
            "**mean**",
            "",
            str(sum(f.n for f in cv.folds)),
            f"**{_pct(cv.mean_ua)}**",
            f"**{_pct(cv.mean_wa)}**",
            "",
        ]
    )
    out.append(_table(["fold", "test speakers", "clips", "UA", "WA", "temperature"], frows))
    if len(report.per_corpus_ua) > 1:
        out.append(
            "\nUA per corpus (pooled out-of-fold): "
            + ", ".join(f"{k} {_pct(v)}" for k, v in report.per_corpus_ua.items())
        )
    out.append("\n### Per-class recall and confusion matrix (all folds' test predictions pooled)\n")
    out.append(confusion_table(labels, cv.pooled.confusion))
    out.append(
        f"\nPooled: UA {_pct(cv.pooled.ua)}, WA {_pct(cv.pooled.wa)} over {cv.pooled.n} clips."
    )
    if image:
        out.append(f"\n![confusion matrix]({image})\n")
    out.append("\n## Cross-corpus\n")
    if report.cross:
        crow = []
        for c in report.cross:
            crow.append(
                [
                    f"{c.train} → {c.test}",
                    ", ".join(c.classes),
                    str(c.scores.n),
                    _pct(c.scores.ua),
                    _pct(c.scores.wa),
                    _pct(1 / len(c.classes)),
                ]
            )
        out.append(
            _table(["train → test", "shared classes", "test clips", "UA", "WA", "chance"], crow)
        )
        out.append(
            "\nEach direction trains the same model type on all of one corpus (its own classes, "
            "with augmentation) and tests on the other corpus's clips of the shared classes, "
            "taking the arg-max over the shared classes only. The EmoDB copy here is cut/padded to "
            "2 s, so these are not comparable to published EmoDB figures.\n"
        )
        for c in report.cross:
            out.append(f"{c.train} → {c.test} confusion:\n")
            out.append(confusion_table(c.classes, c.scores.confusion) + "\n")
    else:
        out.append("Not run" + (f" ({'; '.join(report.notes)})" if report.notes else "") + ".\n")
    out.append("## Calibration\n")
    out.append(
        f"Temperature scaling: the shipped model divides log-probabilities by T = "
        f"{report.temperature:.3f}, fitted on held-out-corpus predictions (see above), not on "
        "the training corpora, where the model is more sure of itself than on other voices.\n"
    )
    out.append("## Known limits\n")
    out.append(
        "- Acted, studio-quality speech by professional actors (RAVDESS: North American English, "
        "two sentences; EmoDB: German). Spontaneous speech is less intense and more mixed; expect "
        "lower accuracy live.\n"
        "- Speaker-independent, but not text-independent on RAVDESS (all speakers say the same "
        "two sentences).\n"
        "- `calm` vs `neutral` and `sad` vs `calm`/`fearful` are the usual confusions; emotions "
        "outside the label set are forced onto one of them.\n"
        "- Augmentation approximates, but does not replace, real microphones and rooms.\n"
        "- Probabilities are calibrated on the corpus; on other speech treat them as relative.\n"
    )
    out.append("## Metadata in the ONNX file\n")
    keys = ", ".join(f"`{k}`" for k in report.metadata)
    out.append(f"{keys}. Final model parameters: `{json.dumps(report.final_params)}`.\n")
    return "\n".join(out) + "\n"


def write(report: RunReport) -> list[Path]:
    folder = report.config.output.parent
    folder.mkdir(parents=True, exist_ok=True)
    image_path = folder / "confusion.png"
    written = []
    if plot_confusion(report.labels, report.cv.pooled.confusion, image_path):
        written.append(image_path)
    md = folder / "README.md"
    md.write_text(render(report, image_path.name if written else None), encoding="utf-8")
    return [md, *written]

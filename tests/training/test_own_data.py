"""Issue 14's "done when": a corpus the project does not know, described by a manifest, trains,
evaluates and exports a model with its own label set that ``ser-live --model`` runs; and a shared
corpus re-described as a manifest gives the folds and figures of the built-in reader."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
import soundfile as sf
from own_corpus import SPEAKERS, STYLES, make_corpus, write_clip, write_manifest
from tools import require_tool

from streamer.model.classifier import Classifier
from training import cli
from training.data.corpora import read_corpus
from training.data.gathering import smoke_subset


def _meta(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """The espeak-ng corpus (4 speakers x 3 labels x 3 lines) and its manifest rows."""
    require_tool("espeak-ng")
    root = tmp_path_factory.mktemp("own") / "calls"
    return root, make_corpus(root)


@pytest.mark.slow
def test_an_unknown_corpus_trains_evaluates_exports_and_runs_live(calls, tmp_path, capsys) -> None:
    root, rows = calls
    rows = list(rows)
    # Two rows of a label the run leaves out: counted, not an error.
    for speaker in ("ann", "bob"):
        write_clip(root / speaker / "confused.wav", "Sorry, what was that?", speaker, "neutral")
        rows.append({"path": f"{speaker}/confused.wav", "label": "confused", "speaker": speaker})
    manifest = write_manifest(root / "calls.csv", rows)
    model = tmp_path / "own.onnx"
    args = ["--manifest", str(manifest), "--labels", "satisfied", "neutral", "frustrated"]
    args += ["--folds", "3", "--augment", "0", "--no-cross-corpus", "--no-cache", "--quiet"]
    code = cli.main([*args, "--output", str(model)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{manifest}: 36 clips (left out by --labels: confused 2)" in out

    meta = _meta(model)
    assert json.loads(meta["labels"]) == ["satisfied", "neutral", "frustrated"]  # --labels order
    assert meta["corpora"] == "calls" and meta["n_clips"] == "36"
    data = json.loads(meta["data"])
    assert data["clips_per_label"] == {label: 12 for label in STYLES}
    assert data["speakers"] == len(SPEAKERS)
    (source,) = data["sources"]
    assert source["manifest"] == "calls.csv" and source["dropped_by_labels"] == {"confused": 2}
    assert source["sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    # Speaker-independent folds on voices told apart by rate and pitch: far above chance (1/3).
    confusion = np.array(json.loads(meta["cv_confusion"]))
    assert confusion.sum() == 36
    assert float(meta["cv_ua"]) >= 0.6  # measured 0.96
    card = model.with_suffix(".md").read_text()
    assert "calls.csv" in card and source["sha256"] in card
    assert "--manifest" in card and "--labels satisfied neutral frustrated" in card

    # ser-live runs it on a new recording of a known voice, and logs its own labels.
    from streamer.live.cli import main as ser_live

    call, timeline = tmp_path / "call.wav", tmp_path / "call.csv"
    write_clip(call, "I still have not heard back from anyone about this.", "cat", "frustrated")
    assert sf.info(call).duration > 1.0
    replay = ["--input", str(call), "--no-ui", "--csv", str(timeline), "--model", str(model)]
    assert ser_live(replay) == 0
    err = capsys.readouterr().err
    with timeline.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        got = list(reader)
        header = reader.fieldnames or []
    assert [h for h in header if h.startswith("p_")] == ["p_satisfied", "p_neutral", "p_frustrated"]
    gated = re.search(r"(\d+) non-speech segment", err)
    assert len(got) + (int(gated.group(1)) if gated else 0) >= 1, err
    assert Classifier(model).labels == ("satisfied", "neutral", "frustrated")


def _write_corpus_manifest(path: Path, clips) -> Path:
    """The built-in reader's clips re-described as manifest rows (paths relative to it)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "speaker", "corpus"])
        for clip in clips:
            speaker = clip.speaker.split(":", 1)[1]
            writer.writerow([clip.path, clip.label, speaker, clip.corpus])
    return path


CV_KEYS = ("cv_ua", "cv_wa", "cv_ua_per_fold", "cv_confusion", "cv_recall", "labels", "n_clips")


@pytest.mark.corpus
@pytest.mark.slow
def test_a_corpus_as_a_manifest_gives_the_folds_and_figures_of_the_built_in_reader(
    ravdess_dir: Path, tmp_path: Path, capsys
) -> None:
    clips = smoke_subset(read_corpus(ravdess_dir.parent, "ravdess"))
    manifest = _write_corpus_manifest(tmp_path / "ravdess.csv", clips)
    common = ["--smoke", "--quiet", "--augment", "0", "--no-cross-corpus", "--no-cache"]
    built_in, described = tmp_path / "built_in.onnx", tmp_path / "manifest.onnx"
    data = ["--data-dir", str(ravdess_dir.parent)]
    assert cli.main([*common, *data, "--corpora", "ravdess", "--output", str(built_in)]) == 0
    assert cli.main([*common, "--manifest", str(manifest), "--output", str(described)]) == 0
    capsys.readouterr()
    a, b = _meta(built_in), _meta(described)
    assert a["corpora"] == b["corpora"] == "ravdess"
    for key in CV_KEYS:
        assert a[key] == b[key], key
    assert json.loads(b["data"])["sources"][0]["manifest"] == "ravdess.csv"


@pytest.mark.slow
def test_a_random_split_says_it_is_leaky_everywhere(calls, tmp_path, capsys) -> None:
    root, rows = calls
    manifest = write_manifest(root / "random.csv", rows)
    model = tmp_path / "random.onnx"
    args = ["--manifest", str(manifest), "--split", "random", "--folds", "3", "--augment", "0"]
    args += ["--no-cross-corpus", "--no-cache", "--quiet", "--output", str(model)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "3 RANDOM (leaky) folds" in out and "WARNING: RANDOM SPLIT" in out
    assert "RANDOM-SPLIT (leaky) CV: UA" in out and "speaker-independent CV" not in out
    meta = _meta(model)
    assert meta["split"].startswith("random (leaky")
    assert "RANDOM split" in meta["cv_method"] and "StratifiedGroupKFold" not in meta["cv_method"]
    card = model.with_suffix(".md").read_text()
    assert "> **RANDOM SPLIT" in card and "RANDOM-SPLIT (leaky) UA" in card
    assert "--split random" in card


@pytest.mark.corpus
@pytest.mark.slow
def test_a_label_set_on_a_built_in_corpus_follows_into_the_model(
    ravdess_dir: Path, tmp_path: Path, capsys
) -> None:
    """The RAVDESS 5-class setup, fearful renamed: the model's labels are the --labels list in
    its order, and what was left out is counted in the log, the metadata and the card."""
    model = tmp_path / "five.onnx"
    args = ["--data-dir", str(ravdess_dir.parent), "--corpora", "ravdess", "--smoke", "--quiet"]
    args += ["--augment", "0", "--no-cross-corpus", "--no-cache", "--map", "fearful=afraid"]
    args += ["--labels", "calm", "happy", "sad", "angry", "afraid", "--output", str(model)]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "ravdess: left out by --labels: disgust 192, neutral 96, surprised 192" in out
    meta = _meta(model)
    assert json.loads(meta["labels"]) == ["calm", "happy", "sad", "angry", "afraid"]
    data = json.loads(meta["data"])
    assert data["clips_per_label"] == {x: 6 for x in ("calm", "happy", "sad", "angry", "afraid")}
    assert data["label_map"] == {"fearful": "afraid"}
    assert data["dropped_by_labels"] == {
        "ravdess": {"disgust": 192, "neutral": 96, "surprised": 192}
    }
    card = model.with_suffix(".md").read_text()
    assert "Left out of ravdess by --labels: disgust 192, neutral 96, surprised 192" in card
    assert "fearful -> afraid" in card and "--map fearful=afraid" in card

"""Your own recordings: manifests and label folders become clips; every bad row is one line that
names it, through ``ser-train`` itself (exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import SR, vowel

from training import cli
from training.data.dataset import Dataset
from training.data.labels import LabelPlan
from training.data.manifest import ManifestError, read_folder, read_manifest


def _wav(path: Path, f0: float = 140.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, vowel(0.4, f0=f0), SR)
    return path


def _manifest(folder: Path, lines: list[str], name: str = "ours.csv") -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def clips_dir(tmp_path: Path) -> Path:
    for speaker in ("ann", "bob"):
        for label in ("happy", "sad", "tired"):
            _wav(tmp_path / "audio" / f"{speaker}_{label}.wav")
    return tmp_path


def test_a_manifest_gives_clips_with_corpus_prefixed_speakers_and_sessions(clips_dir) -> None:
    path = _manifest(
        clips_dir,
        [
            "path,label,speaker,session",
            "audio/ann_happy.wav,happy,ann,monday",
            "audio/bob_sad.wav,sad,bob,",
            "",
            "audio/bob_tired.wav,tired,bob,tuesday",
        ],
    )
    source = read_manifest(path, LabelPlan())
    assert [c.path for c in source.clips] == [
        clips_dir / "audio" / n for n in ("ann_happy.wav", "bob_sad.wav", "bob_tired.wav")
    ]
    assert [c.speaker for c in source.clips] == ["ours:ann", "ours:bob", "ours:bob"]
    assert {c.corpus for c in source.clips} == {"ours"}  # from the file name
    assert len(source.digest or "") == 64
    # Each session streams on its own; rows without one stream with their corpus.
    n = len(source.clips)
    ds = Dataset(source.clips, ("happy", "sad", "tired"), np.zeros(n), np.zeros(n),
                 np.zeros((n, 1)), None, np.zeros(0, int), np.zeros((0, 1)), None)  # fmt: skip
    assert list(ds.sessions) == ["ours/monday", "ours", "ours/tuesday"]
    assert list(ds.corpora) == ["ours", "ours", "ours"]


def test_the_label_plan_maps_first_then_keeps_and_counts_what_it_drops(clips_dir) -> None:
    lines = ["path,label,speaker,corpus"]
    lines += [f"audio/{s}_{x}.wav,{x},{s},lab" for s in ("ann", "bob") for x in ("happy", "sad")]
    lines += ["audio/ann_tired.wav,tired,ann,lab", "audio/bob_tired.wav,tired,bob,lab"]
    plan = LabelPlan(keep=("content", "sad"), rename={"happy": "content"})
    source = read_manifest(_manifest(clips_dir, lines), plan)
    assert [c.label for c in source.clips] == ["content", "sad", "content", "sad"]
    assert {c.corpus for c in source.clips} == {"lab"}
    assert dict(source.dropped) == {"tired": 2}


def test_a_label_folder_takes_the_speaker_from_the_file_name(tmp_path: Path) -> None:
    root = tmp_path / "calls"
    for name in ("neutral/ann_01.wav", "neutral/bob_01.wav", "cross/ann_02.wav"):
        _wav(root / name)
    source = read_folder(root, r"^([a-z]+)_", LabelPlan())
    got = [(c.label, c.speaker, c.corpus) for c in source.clips]
    assert got == [
        ("cross", "calls:ann", "calls"),
        ("neutral", "calls:ann", "calls"),
        ("neutral", "calls:bob", "calls"),
    ]
    with pytest.raises(ManifestError, match="exactly one capture group"):
        read_folder(root, r"^[a-z]+_", LabelPlan())
    with pytest.raises(ManifestError, match=r"calls/cross/ann_02.wav: --speaker-regex"):
        read_folder(root, r"^(\d+)_", LabelPlan())


def _one_line_error(capsys, code: int) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    assert len(lines) == 1 and lines[0].startswith("ser-train: error: "), lines
    return lines[0]


def _train(tmp_path: Path, *args: str) -> int:
    return cli.main([*args, "--output", str(tmp_path / "m.onnx"), "--quiet", "--no-cache"])


HEADER = "path,label,speaker"
GOOD = "audio/ann_happy.wav,happy,ann"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([HEADER, GOOD, "audio/nobody.wav,sad,bob"], "ours.csv line 3: audio file not found"),
        ([HEADER, GOOD, "audio/garbage.wav,sad,bob"], "ours.csv line 3: unreadable audio file"),
        (["path,label,speaker,mood", GOOD + ",x"], "ours.csv line 1: unknown column 'mood'"),
        (["path,label", "audio/ann_happy.wav,happy"], "ours.csv line 1: no 'speaker' column"),
        ([HEADER, GOOD, "audio/bob_sad.wav,,bob"], "ours.csv line 3: empty label"),
        ([HEADER, GOOD, "audio/bob_sad.wav,sad,"], "ours.csv line 3: empty speaker"),
        ([HEADER, "audio/bob_sad.wav,très triste,bob"], "line 2: label 'très triste' is not a"),
        ([HEADER, GOOD, "audio/bob_sad.wav,sad"], "ours.csv line 3: 2 values for 3 columns"),
    ],
)
def test_a_bad_manifest_row_is_one_line_naming_it(
    clips_dir, tmp_path, capsys, lines, message
) -> None:
    (clips_dir / "audio" / "garbage.wav").write_bytes(b"this is not audio" * 20)
    code = _train(tmp_path, "--manifest", str(_manifest(clips_dir, lines)))
    line = _one_line_error(capsys, code)
    assert message in line
    assert not (tmp_path / "m.onnx").exists()


def test_an_unreadable_file_can_be_skipped_and_counted(clips_dir, tmp_path, capsys) -> None:
    (clips_dir / "audio" / "garbage.wav").write_bytes(b"\0" * 100)
    lines = [HEADER, GOOD, "audio/garbage.wav,sad,bob", "audio/bob_sad.wav,sad,bob"]
    lines += ["audio/ann_sad.wav,sad,ann", "audio/bob_happy.wav,happy,bob"]
    _wav(clips_dir / "audio" / "ann_sad.wav")
    _wav(clips_dir / "audio" / "bob_happy.wav")
    path = _manifest(clips_dir, lines)
    code = _train(tmp_path, "--manifest", str(path), "--on-unreadable", "skip", "--folds", "3")
    captured = capsys.readouterr()
    warning, error = captured.err.strip().splitlines()
    assert warning.startswith("ser-train: warning: ours.csv line 3: unreadable audio file")
    assert warning.endswith("skipped")
    assert f"{path}: 4 clips (1 unreadable file(s) skipped)" in captured.out
    # ... and the run goes on to its next check: two speakers cannot fill three folds.
    assert code == 2 and error.startswith("ser-train: error: 3 speaker-grouped folds need at ")
    assert "the data has 2; give --folds 2" in error


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--labels", "happy", "bored"], "label 'bored' has no examples in the training data"),
        (["--labels", "happy", "sad!"], "--labels: 'sad!' is not a plain label name"),
        (["--labels", "happy"], "--labels needs at least two labels"),
        (["--map", "happy"], "--map 'happy': expected OLD=NEW"),
        (["--map", "happy=very happy"], "'very happy' is not a plain label name"),
        (["--labels", "happy", "tired"], "label 'happy' comes from one speaker only (ours:ann)"),
    ],
)
def test_label_sets_that_cannot_train_are_refused_in_one_line(
    clips_dir, tmp_path, capsys, args, message
) -> None:
    lines = [HEADER, GOOD, "audio/bob_sad.wav,sad,bob"]
    lines += ["audio/ann_tired.wav,tired,ann", "audio/bob_tired.wav,tired,bob"]
    path = _manifest(clips_dir, lines)
    code = _train(tmp_path, "--manifest", str(path), "--folds", "2", *args)
    assert message in _one_line_error(capsys, code)


def test_folder_needs_a_speaker_regex_and_the_manifest_must_exist(tmp_path, capsys) -> None:
    code = _train(tmp_path, "--folder", str(tmp_path))
    assert "--folder needs --speaker-regex" in _one_line_error(capsys, code)
    code = _train(tmp_path, "--manifest", str(tmp_path / "missing.csv"))
    assert f"manifest {tmp_path / 'missing.csv'}: " in _one_line_error(capsys, code)


@pytest.mark.corpus
def test_a_manifest_corpus_cannot_also_come_from_corpora(
    ravdess_dir, clips_dir, tmp_path, capsys
) -> None:
    """Manifests mix with the built-in corpora, but one corpus is read from one place only (two
    copies of a clip would land in two streams and, with another speaker id, in two folds)."""
    lines = ["path,label,speaker,corpus", "audio/ann_happy.wav,happy,ann,ravdess"]
    lines += ["audio/bob_sad.wav,sad,bob,ravdess"]
    path = _manifest(clips_dir, lines)
    data = ["--data-dir", str(ravdess_dir.parent), "--corpora", "ravdess"]
    code = _train(tmp_path, *data, "--manifest", str(path), "--smoke")
    assert "corpus 'ravdess' is also read by --corpora" in _one_line_error(capsys, code)

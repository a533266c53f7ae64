"""Corpus readers on generated files named like the published corpora (no real audio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from synth import vowel

from training.data import audio, corpora
from training.data.corpora import CorpusError


def _touch(path: Path, seconds: float = 0.2, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(path.name))
    sf.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype(np.float32), rate)
    return path


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    r = tmp_path / "data"
    _touch(r / "nemo/EB0_anger_1.flac")
    _touch(r / "nemo/WR0_neutral_2.flac")
    # RAVDESS: MM-VV-EE-II-SS-RR-AA; the song (VV=02) clip must be ignored.
    _touch(r / "ravdess/Actor_01/03-01-01-01-01-01-01.flac")
    _touch(r / "ravdess/Actor_01/03-01-05-02-01-02-01.flac")
    _touch(r / "ravdess/Actor_12/03-01-02-01-02-01-12.wav")
    _touch(r / "ravdess/Actor_12/03-01-08-02-02-02-12.flac")
    _touch(r / "ravdess/Actor_12/03-02-03-01-01-01-12.flac")
    # EmoDB: SSTTTEV
    for name in ("03a01Wa", "03a01Fa", "08b09La", "16b10Ec", "10a05Ab", "11a02Ta", "13a07Nc"):
        _touch(r / f"emodb/{name}.flac")
    # CREMA-D: ActorID_Sentence_Emotion_Level
    for name in (
        "1001_DFA_ANG_XX",
        "1001_IEO_HAP_HI",
        "1091_TSI_SAD_LO",
        "1045_WSI_FEA_MD",
        "1002_ITH_DIS_XX",
        "1002_IOM_NEU_XX",
    ):
        _touch(r / f"cremad/AudioWAV/{name}.wav")
    # TESS: OAF/YAF_word_emotion, in per-emotion folders; ps = pleasant surprise.
    for name in (
        "OAF_back_angry",
        "OAF_bar_ps",
        "YAF_dog_fear",
        "YAF_dog_neutral",
        "YAF_pain_disgust",
        "OAF_base_happy",
        "YAF_bath_sad",
    ):
        _touch(r / f"tess/{name.split('_')[0]}_{name.split('_')[-1]}/{name}.wav")
    # SAVEE: speaker-prefixed (DC_a01) and per-speaker folders (JK/sa03).
    for name in ("DC_a01", "DC_sa02", "DC_su15", "JE_n01"):
        _touch(r / f"savee/AudioData/{name}.wav")
    for name in ("sa03", "h07", "f02", "d11"):
        _touch(r / f"savee/AudioData/JK/{name}.wav")
    (r / "ravdess/README.md").write_text("not audio")
    return r


def _pairs(clips: list[corpora.Clip]) -> set[tuple[str, str, str]]:
    return {(c.path.stem, c.speaker, c.label) for c in clips}


def test_ravdess(fake_root: Path) -> None:
    clips = corpora.read_corpus(fake_root, "ravdess")
    assert _pairs(clips) == {
        ("03-01-01-01-01-01-01", "ravdess:01", "neutral"),
        ("03-01-05-02-01-02-01", "ravdess:01", "angry"),
        ("03-01-02-01-02-01-12", "ravdess:12", "calm"),
        ("03-01-08-02-02-02-12", "ravdess:12", "surprised"),
    }


def test_emodb(fake_root: Path) -> None:
    clips = corpora.read_corpus(fake_root, "emodb")
    got = {c.path.stem: (c.speaker, c.label) for c in clips}
    assert got == {
        "03a01Wa": ("emodb:03", "angry"),
        "03a01Fa": ("emodb:03", "happy"),
        "08b09La": ("emodb:08", "boredom"),
        "16b10Ec": ("emodb:16", "disgust"),
        "10a05Ab": ("emodb:10", "fearful"),
        "11a02Ta": ("emodb:11", "sad"),
        "13a07Nc": ("emodb:13", "neutral"),
    }


def test_cremad(fake_root: Path) -> None:
    got = {c.path.stem: (c.speaker, c.label) for c in corpora.read_corpus(fake_root, "cremad")}
    assert got == {
        "1001_DFA_ANG_XX": ("cremad:1001", "angry"),
        "1001_IEO_HAP_HI": ("cremad:1001", "happy"),
        "1091_TSI_SAD_LO": ("cremad:1091", "sad"),
        "1045_WSI_FEA_MD": ("cremad:1045", "fearful"),
        "1002_ITH_DIS_XX": ("cremad:1002", "disgust"),
        "1002_IOM_NEU_XX": ("cremad:1002", "neutral"),
    }


def test_tess(fake_root: Path) -> None:
    got = {c.path.stem: (c.speaker, c.label) for c in corpora.read_corpus(fake_root, "tess")}
    assert got == {
        "OAF_back_angry": ("tess:OAF", "angry"),
        "OAF_bar_ps": ("tess:OAF", "surprised"),
        "YAF_dog_fear": ("tess:YAF", "fearful"),
        "YAF_dog_neutral": ("tess:YAF", "neutral"),
        "YAF_pain_disgust": ("tess:YAF", "disgust"),
        "OAF_base_happy": ("tess:OAF", "happy"),
        "YAF_bath_sad": ("tess:YAF", "sad"),
    }


def test_savee(fake_root: Path) -> None:
    got = {
        (c.path.parent.name, c.path.stem): (c.speaker, c.label)
        for c in corpora.read_corpus(fake_root, "savee")
    }
    assert got == {
        ("AudioData", "DC_a01"): ("savee:DC", "angry"),
        ("AudioData", "DC_sa02"): ("savee:DC", "sad"),
        ("AudioData", "DC_su15"): ("savee:DC", "surprised"),
        ("AudioData", "JE_n01"): ("savee:JE", "neutral"),
        ("JK", "sa03"): ("savee:JK", "sad"),
        ("JK", "h07"): ("savee:JK", "happy"),
        ("JK", "f02"): ("savee:JK", "fearful"),
        ("JK", "d11"): ("savee:JK", "disgust"),
    }


def test_speakers_never_collide_across_corpora(fake_root: Path) -> None:
    clips = corpora.read_corpora(fake_root, list(corpora.CORPORA))
    by_speaker = {}
    for c in clips:
        assert c.speaker.startswith(f"{c.corpus}:")
        by_speaker.setdefault(c.speaker, set()).add(c.corpus)
    assert all(len(v) == 1 for v in by_speaker.values())
    assert set(corpora.labels_in(clips)) <= set(corpora.LABELS)
    assert corpora.labels_in(clips) == tuple(
        sorted(corpora.labels_in(clips), key=corpora.LABELS.index)
    )


def test_every_mapped_label_is_in_the_vocabulary() -> None:
    for reader in corpora.CORPORA.values():
        assert set(reader.codes.values()) <= set(corpora.LABELS), reader.name


def test_nemo_names_give_polish_actors_and_their_emotions(tmp_path: Path) -> None:
    for name in ("EB0_anger_12", "KS0_happiness_3", "MK0_sadness_40", "TP0_surprised_1"):
        _touch(tmp_path / "nemo" / f"{name}.flac")
    _touch(tmp_path / "nemo" / "readme_notes.flac")  # not a clip name: ignored
    got = {c.path.stem: (c.speaker, c.label) for c in corpora.read_corpus(tmp_path, "nemo")}
    assert got == {
        "EB0_anger_12": ("nemo:EB0", "angry"),
        "KS0_happiness_3": ("nemo:KS0", "happy"),
        "MK0_sadness_40": ("nemo:MK0", "sad"),
        "TP0_surprised_1": ("nemo:TP0", "surprised"),
    }


def test_a_new_corpus_is_one_reader_and_one_registry_line(tmp_path, monkeypatch) -> None:
    """What adding a corpus takes: a reader (its own module in real life) and one line."""
    from training.data.clips import Clip
    from training.data.corpora.reader import CorpusReader

    def parse(path: Path) -> Clip | None:
        speaker, _, label = path.stem.partition("-")
        return Clip(path, "toy", f"toy:{speaker}", label) if label else None

    toy = CorpusReader("toy", ("toy",), parse, {"h": "happy"}, language="Toy")
    monkeypatch.setitem(corpora.CORPORA, "toy", toy)  # the one registry line
    for name in ("a-happy", "b-sad", "a-sad"):
        _touch(tmp_path / "toy" / f"{name}.wav")
    clips = corpora.read_corpus(tmp_path, "toy")
    assert [(c.speaker, c.label) for c in clips] == [
        ("toy:a", "happy"), ("toy:a", "sad"), ("toy:b", "sad")
    ]
    assert "| happy | " in corpora.mapping_table() and " h |" in corpora.mapping_table()


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        corpora.read_corpus(tmp_path, "ravdess")
    (tmp_path / "emodb").mkdir()
    (tmp_path / "emodb" / "notes.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match="no emodb clips"):
        corpora.read_corpus(tmp_path, "emodb")
    with pytest.raises(CorpusError, match="unknown corpus"):
        corpora.read_corpus(tmp_path, "iemocap")


def test_audio_is_resampled_to_16k_mono_and_cut_like_a_live_utterance(tmp_path: Path) -> None:
    rate = 22050
    speech = vowel(1.0, sr=rate)
    quiet = np.zeros(int(1.0 * rate), dtype=np.float32)
    stereo = np.stack([np.concatenate([quiet, speech, quiet])] * 2, axis=1)
    path = tmp_path / "x.wav"
    sf.write(path, stereo, rate)
    samples = audio.load(path, audio.default_preparation())
    assert samples.dtype == np.float32 and samples.ndim == 1
    # The live segmenter's cut: 0.3 s pre-roll, the speech, and webrtcvad's short tail.
    assert (0.3 + 1.0 - 0.07) * 16000 <= len(samples) <= (0.3 + 1.0 + 0.15) * 16000
    assert len(audio.load(path, audio.default_preparation(), trim=False)) == pytest.approx(
        3 * 16000, abs=2
    )


def test_clip_too_short_for_the_segmenter_falls_back_to_an_energy_trim(tmp_path: Path) -> None:
    # 0.25 s of speech is below min_utterance_s, so the live segmenter keeps nothing; the
    # clip is still labelled data, so it is cut by energy instead (0.3 s margin each side).
    quiet = np.zeros(16000, np.float32)
    clip = np.concatenate([quiet, vowel(0.25), quiet])
    trimmed = audio.cut_like_live(clip, audio.default_preparation())
    assert (0.25 + 2 * 0.3 - 0.06) * 16000 <= len(trimmed) <= (0.25 + 2 * 0.3 + 0.06) * 16000

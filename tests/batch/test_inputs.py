"""Which recordings ser-batch covers and where their outputs go."""

from pathlib import Path, PurePosixPath

import pytest

from streamer.batch.inputs import InputsError, discover


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_folders_are_searched_recursively_for_audio_only(tmp_path):
    for name in ("a.wav", "sub/b.FLAC", "sub/deeper/c.ogg", "notes.txt", "sub/cover.jpg"):
        touch(tmp_path / "in" / name)
    found = discover([str(tmp_path / "in")])
    assert [r.name for r in found] == [
        PurePosixPath("a.wav"),
        PurePosixPath("sub/b.FLAC"),
        PurePosixPath("sub/deeper/c.ogg"),
    ]
    assert all(r.path.is_absolute() for r in found)


def test_list_files_take_paths_relative_to_themselves_and_skip_comments(tmp_path):
    a = touch(tmp_path / "calls" / "a.wav")
    touch(tmp_path / "calls" / "folder" / "b.wav")
    listing = tmp_path / "calls" / "todo.txt"
    listing.write_text(f"# tonight\n{a}\n\nfolder\nmissing.wav\n")
    found = discover([f"@{listing}"])
    assert [str(r.name) for r in found] == ["a.wav", "b.wav", "missing.wav"]
    assert found[2].path == (tmp_path / "calls" / "missing.wav").absolute()


def test_a_recording_named_twice_is_taken_once(tmp_path):
    a = touch(tmp_path / "in" / "a.wav")
    found = discover([str(tmp_path / "in"), str(a)])
    assert len(found) == 1


def test_two_recordings_with_one_output_name_are_refused(tmp_path):
    touch(tmp_path / "x" / "a.wav")
    touch(tmp_path / "y" / "a.wav")
    with pytest.raises(InputsError, match="would both write a.wav.csv"):
        discover([str(tmp_path / "x"), str(tmp_path / "y")])


def test_an_unreadable_list_file_is_a_usage_error(tmp_path):
    with pytest.raises(InputsError, match="cannot read list file"):
        discover([f"@{tmp_path / 'nope.txt'}"])

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


def test_two_recordings_with_one_natural_name_are_both_kept(tmp_path):
    """Their outputs get unique names later (streamer/batch/names.py), not a refusal."""
    touch(tmp_path / "x" / "a.wav")
    touch(tmp_path / "y" / "a.wav")
    found = discover([str(tmp_path / "x"), str(tmp_path / "y")])
    assert [str(r.name) for r in found] == ["a.wav", "a.wav"]
    assert found[0].path != found[1].path


def test_an_unreadable_list_file_is_a_usage_error(tmp_path):
    with pytest.raises(InputsError, match="cannot read list file"):
        discover([f"@{tmp_path / 'nope.txt'}"])


def test_non_regular_files_are_refused_without_being_opened(tmp_path):
    """Issue 22.9: a FIFO named x.wav hung the whole run (opening it waits for a writer)."""
    import os

    touch(tmp_path / "in" / "a.wav")
    os.mkfifo(tmp_path / "in" / "pipe.wav")
    os.symlink(tmp_path / "nowhere.wav", tmp_path / "in" / "dangling.wav")
    found = {r.name.name: r.problem for r in discover([str(tmp_path / "in")])}
    assert found == {
        "a.wav": "",
        "dangling.wav": "a broken symbolic link",
        "pipe.wav": "not a regular file (a FIFO)",
    }
    direct = discover([str(tmp_path / "in" / "pipe.wav"), "/dev/zero"])
    assert [r.problem for r in direct] == [
        "not a regular file (a FIFO)",
        "not a regular file (a character device)",
    ]


def test_linked_folders_are_followed_and_loops_are_skipped_with_a_reason(tmp_path):
    """Issue 22.16: symlinked sub-folders were left out without a word."""
    import os

    from streamer.batch.inputs import find_inputs

    touch(tmp_path / "in" / "a.wav")
    touch(tmp_path / "elsewhere" / "b.wav")
    os.symlink(tmp_path / "elsewhere", tmp_path / "in" / "linked")
    os.symlink(tmp_path / "in", tmp_path / "in" / "linked" / "back")  # a loop
    os.symlink(tmp_path / "elsewhere", tmp_path / "in" / "again")  # a second way in
    inputs = find_inputs([str(tmp_path / "in")])
    names = [str(r.name) for r in inputs.recordings]
    assert names == ["a.wav", "again/b.wav"]  # folders in name order; "linked" is the 2nd way
    assert len(inputs.skipped) == 2
    assert all("searched already" in line for line in inputs.skipped)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""])
def test_a_list_file_keeps_its_first_entry_after_a_byte_order_mark(tmp_path, bom):
    """Issue 22.20: the BOM stuck to the first path, which then was not found."""
    a = touch(tmp_path / "a.wav")
    b = touch(tmp_path / "b.wav")
    listing = tmp_path / "todo.txt"
    listing.write_bytes(bom + f"{a}\r\n{b}\r\n".encode())
    assert [r.path for r in discover([f"@{listing}"])] == [a, b]


def test_a_utf16_list_file_and_names_that_are_not_utf8(tmp_path):
    import os

    odd = os.fsdecode(b"caf\xe9.wav")
    touch(tmp_path / odd)
    listing = tmp_path / "todo.txt"
    listing.write_bytes(b"\xff\xfe" + "a.wav\n".encode("utf-16-le"))
    assert [str(r.name) for r in discover([f"@{listing}"])] == ["a.wav"]
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9.wav\n")
    found = discover([f"@{latin}"])
    assert found[0].path == (tmp_path / odd).absolute() and found[0].problem == ""

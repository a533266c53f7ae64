"""Names kept across runs; a moved recording keeps its results (streamer/batch/naming.py)."""

from pathlib import Path, PurePosixPath

from streamer.batch.inputs import Recording
from streamer.batch.job import CallResult, FileState
from streamer.batch.naming import assign_names
from streamer.batch.state import RunState, key_of

RESERVED = ("calls.csv",)


def recording(path: Path, name: str) -> Recording:
    return Recording(path, PurePosixPath(name))


def test_names_stay_whatever_the_order_of_later_runs(tmp_path):
    state = RunState(tmp_path)
    a, b = recording(Path("/x/a.wav"), "a.wav"), recording(Path("/y/a.wav"), "a.wav")
    first, lines, _ = assign_names([a, b], state, RESERVED)
    assert [str(r.name) for r in first] == ["a.wav", "a~2.wav"] and len(lines) == 1
    second, lines, _ = assign_names([b, a], state, RESERVED)
    assert [str(r.name) for r in second] == ["a~2.wav", "a.wav"] and lines == []
    state.close()


def test_a_recording_found_at_a_new_path_with_the_same_bytes_is_moved_not_redone(tmp_path):
    state = RunState(tmp_path)
    new_path = tmp_path / "new" / "a.wav"
    new_path.parent.mkdir()
    new_path.write_bytes(b"audio")
    old = recording(tmp_path / "old" / "a.wav", "a.wav")  # no longer there
    assign_names([old], state, RESERVED)
    state.record(CallResult(path=old.key, status="ok", state=FileState.of(new_path)))
    named, lines, moved = assign_names([recording(new_path, "a.wav")], state, RESERVED)
    assert moved == 1 and str(named[0].name) == "a.wav" and "moved" in lines[0]
    assert state.previous(key_of(str(new_path))).status == "ok"
    assert state.previous(key_of(old.key)) is None
    state.close()


def test_a_different_recording_never_takes_an_earlier_ones_name(tmp_path):
    state = RunState(tmp_path)
    other = tmp_path / "other.wav"
    other.write_bytes(b"different audio")
    gone = recording(tmp_path / "gone" / "x.wav", "x.wav")
    assign_names([gone], state, RESERVED)
    state.record(CallResult(path=gone.key, status="ok", state=FileState(1, 2)))
    named, _, moved = assign_names([recording(other, "x.wav")], state, RESERVED)
    assert moved == 0 and str(named[0].name) == "x~2.wav"
    state.close()

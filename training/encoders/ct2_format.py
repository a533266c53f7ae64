"""Reader and writer of CTranslate2's ``model.bin`` (binary version 6), without ctranslate2.

The layout, all integers little-endian, strings as ``uint16 length`` (including a final NUL),
the UTF-8 bytes and the NUL::

    uint32 binary version (6) | string spec name | uint32 spec revision
    uint32 variable count, then per variable:
        string name | uint8 rank | uint32 dim * rank | uint8 dtype id | uint32 byte count | bytes
    uint32 alias count, then per alias: string alias | string target variable

dtype ids: 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16. numpy has no bfloat16,
so bfloat16 variables are read as the float32 values they stand for (exactly) and cannot be
written. Scalars (rank 0) hold flags and sizes such as ``encoder/num_heads``.

The writer exists for tests: a small random model in the real format, so no test needs the
145 MB file.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BINARY_VERSION = 6
DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_BFLOAT16 = DTYPES.index("bfloat16")


class Ct2FormatError(ValueError):
    """The file is not a CTranslate2 model.bin this reader understands (one-line message)."""


@dataclass(frozen=True)
class Ct2Model:
    spec: str  # e.g. "WhisperSpec"
    revision: int
    variables: dict[str, np.ndarray]  # name -> array (read-only views into the file's bytes)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> variable name

    def get(self, name: str) -> np.ndarray:
        """A variable by its name or an alias of it."""
        return self.variables[self.aliases.get(name, name)]


class _Reader:
    """Cursor over the file's bytes; every read checks the end so truncation is one message."""

    def __init__(self, data: bytes | memoryview, origin: str) -> None:
        self.data = data
        self.pos = 0
        self.origin = origin

    def fail(self, message: str) -> Ct2FormatError:
        return Ct2FormatError(f"{self.origin}: {message} (at byte {self.pos})")

    def take(self, n: int, what: str) -> memoryview:
        if self.pos + n > len(self.data):
            raise self.fail(f"truncated: {what} needs {n} bytes, {len(self.data) - self.pos} left")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))[0]

    def string(self, what: str) -> str:
        size = self.unpack("H", f"length of {what}")
        raw = bytes(self.take(size, what))
        if size == 0 or raw[-1] != 0:
            raise self.fail(f"{what} is not NUL-terminated")
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not UTF-8") from None


def _variable(reader: _Reader) -> tuple[str, np.ndarray]:
    name = reader.string("variable name")
    rank = reader.unpack("B", f"rank of {name}")
    shape = tuple(reader.unpack("I", f"shape of {name}") for _ in range(rank))
    type_id = reader.unpack("B", f"dtype of {name}")
    if type_id >= len(DTYPES):
        raise reader.fail(f"variable {name} has unknown dtype id {type_id}")
    n_bytes = reader.unpack("I", f"size of {name}")
    itemsize = 2 if type_id == _BFLOAT16 else np.dtype(DTYPES[type_id]).itemsize
    expected = int(np.prod(shape, dtype=np.int64)) * itemsize
    if n_bytes != expected:
        raise reader.fail(f"variable {name} {shape} {DTYPES[type_id]} has {n_bytes} bytes, "
                          f"expected {expected}")
    raw = reader.take(n_bytes, f"data of {name}")
    if type_id == _BFLOAT16:  # the high half of a float32
        array = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(raw, dtype=np.dtype(DTYPES[type_id]).newbyteorder("<"))
    return name, array.reshape(shape)


def parse(data: bytes | memoryview, origin: str = "model.bin") -> Ct2Model:
    """A whole model.bin's bytes -> :class:`Ct2Model`; ``origin`` names it in errors."""
    reader = _Reader(data, origin)
    version = reader.unpack("I", "binary version")
    if version != BINARY_VERSION:
        raise Ct2FormatError(
            f"{origin}: not a CTranslate2 model.bin of binary version {BINARY_VERSION} "
            f"(first word is {version})"
        )
    spec = reader.string("spec name")
    revision = reader.unpack("I", "spec revision")
    variables: dict[str, np.ndarray] = {}
    for _ in range(reader.unpack("I", "variable count")):
        name, array = _variable(reader)
        if name in variables:
            raise reader.fail(f"variable {name} appears twice")
        variables[name] = array
    aliases: dict[str, str] = {}
    for _ in range(reader.unpack("I", "alias count")):
        alias, target = reader.string("alias name"), reader.string("alias target")
        if target not in variables:
            raise reader.fail(f"alias {alias} points to missing variable {target}")
        aliases[alias] = target
    if reader.pos != len(data):
        raise reader.fail(f"{len(data) - reader.pos} unexpected bytes after the aliases")
    return Ct2Model(spec=spec, revision=revision, variables=variables, aliases=aliases)


def read_model(path: Path) -> Ct2Model:
    """Parse the file at ``path`` (read whole into memory: arrays are views of its bytes)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Ct2FormatError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse(data, origin=str(path))


def _string(text: str) -> bytes:
    raw = text.encode("utf-8") + b"\0"
    return struct.pack("<H", len(raw)) + raw


def _dtype_id(name: str, array: np.ndarray) -> int:
    dtype = array.dtype.name
    if dtype not in DTYPES or dtype == "bfloat16":
        raise Ct2FormatError(f"variable {name}: dtype {dtype} cannot be written")
    return DTYPES.index(dtype)


def serialise(model: Ct2Model) -> bytes:
    """The model.bin bytes of ``model`` (variables in the mapping's order)."""
    parts = [struct.pack("<I", BINARY_VERSION), _string(model.spec),
             struct.pack("<I", model.revision), struct.pack("<I", len(model.variables))]
    for name, value in model.variables.items():
        array = np.asarray(value)
        type_id = _dtype_id(name, array)
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        parts += [_string(name), struct.pack("<B", array.ndim),
                  struct.pack(f"<{array.ndim}I", *array.shape),
                  struct.pack("<BI", type_id, len(raw)), raw]
    parts.append(struct.pack("<I", len(model.aliases)))
    for alias, target in model.aliases.items():
        parts += [_string(alias), _string(target)]
    return b"".join(parts)


def write_model(path: Path, model: Ct2Model) -> Path:
    """Write ``model`` as a model.bin at ``path``."""
    path = Path(path)
    path.write_bytes(serialise(model))
    return path


def tensors(model: Ct2Model, prefix: str) -> Mapping[str, np.ndarray]:
    """The variables under ``prefix/`` (e.g. ``encoder``) with that prefix removed."""
    start = prefix.rstrip("/") + "/"
    return {name[len(start):]: v for name, v in model.variables.items() if name.startswith(start)}

"""model.bin reader/writer: byte-exact round trip, every dtype, and one-line refusals."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from training.encoders.ct2_format import (
    BINARY_VERSION,
    Ct2FormatError,
    Ct2Model,
    parse,
    read_model,
    serialise,
    tensors,
    write_model,
)

from .tiny_whisper import tiny_model, write_tiny


def _mixed() -> Ct2Model:
    rng = np.random.default_rng(3)
    return Ct2Model(
        spec="TestSpec",
        revision=7,
        variables={
            "a/weight": rng.standard_normal((5, 3)).astype(np.float16),
            "a/bias": rng.standard_normal(5).astype(np.float32),
            "q/weight": rng.integers(-128, 127, (2, 4), dtype=np.int8),
            "heads": np.array(8, dtype=np.int16),
            "flag": np.array(1, dtype=np.int8),
            "count": np.array([1, 2, 3], dtype=np.int32),
            "empty": np.zeros((0, 4), np.float32),
        },
        aliases={"b/weight": "a/weight"},
    )


def test_round_trip_keeps_names_dtypes_shapes_values_and_bytes(tmp_path: Path) -> None:
    model = _mixed()
    path = write_model(tmp_path / "model.bin", model)
    back = read_model(path)
    assert (back.spec, back.revision, back.aliases) == ("TestSpec", 7, {"b/weight": "a/weight"})
    assert list(back.variables) == list(model.variables)
    for name, value in model.variables.items():
        assert back.variables[name].dtype == value.dtype
        assert back.variables[name].shape == value.shape
        np.testing.assert_array_equal(back.variables[name], value)
    np.testing.assert_array_equal(back.get("b/weight"), model.variables["a/weight"])
    assert serialise(back) == path.read_bytes()


def test_tiny_whisper_file_parses_to_encoder_tensors(tmp_path: Path) -> None:
    back = read_model(write_tiny(tmp_path / "model.bin"))
    encoder = tensors(back, "encoder")
    assert encoder["conv1/weight"].shape == (64, 80, 3)
    assert encoder["layer_1/self_attention/linear_0/weight"].dtype == np.float16
    assert int(encoder["num_heads"]) == 2
    assert len(back.variables) == len(tiny_model().variables)


def test_bfloat16_reads_as_the_float32_it_stands_for() -> None:
    values = np.array([1.5, -2.0, 3.140625], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.int16)
    raw = bytearray(serialise(Ct2Model("S", 1, {"x": bits})))
    type_at = 4 + (2 + 2) + 4 + 4 + (2 + 2) + 1 + 4  # version, spec, rev, count, name, rank, dim
    assert raw[type_at] == 2  # int16
    raw[type_at] = 5  # bfloat16
    np.testing.assert_array_equal(parse(bytes(raw)).variables["x"], values)


def _refusal(data: bytes) -> str:
    with pytest.raises(Ct2FormatError) as caught:
        parse(data, origin="tiny.bin")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("tiny.bin: ")
    return message


def test_every_truncation_is_refused_in_one_line() -> None:
    data = serialise(_mixed())
    for cut in range(len(data)):
        assert "truncated" in _refusal(data[:cut])


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (lambda d: struct.pack("<I", 5) + d[4:], "binary version 6 (first word is 5)"),
        (lambda d: b"PK\x03\x04" + d[4:], "not a CTranslate2 model.bin"),
        (lambda d: d + b"\0", "1 unexpected bytes"),
    ],
)
def test_wrong_version_or_trailing_bytes_are_refused(patch, expected: str) -> None:
    assert expected in _refusal(patch(serialise(_mixed())))


def test_garbled_headers_are_refused() -> None:
    model = Ct2Model("S", 1, {"x": np.zeros(3, np.float32)}, {"y": "x"})
    data = bytearray(serialise(model))
    type_at = 4 + 4 + 4 + 4 + 4 + 1 + 4
    bad_type = bytes(data[:type_at]) + b"\x09" + bytes(data[type_at + 1 :])
    assert "unknown dtype id 9" in _refusal(bad_type)
    bad_size = bytes(data[: type_at + 1]) + struct.pack("<I", 11) + bytes(data[type_at + 5 :])
    assert "has 11 bytes, expected 12" in _refusal(bad_size)
    bad_alias = serialise(Ct2Model("S", 1, {"x": np.zeros(3, np.float32)}, {"y": "z"}))
    assert "missing variable z" in _refusal(bad_alias)
    no_nul = bytes(data).replace(b"S\x00", b"SS", 1)
    assert "NUL-terminated" in _refusal(no_nul)


def test_unreadable_file_and_unwritable_dtype_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(Ct2FormatError, match="cannot read"):
        read_model(tmp_path / "absent.bin")
    with pytest.raises(Ct2FormatError, match="float64 cannot be written"):
        serialise(Ct2Model("S", 1, {"x": np.zeros(2)}))
    assert BINARY_VERSION == 6

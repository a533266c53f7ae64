import dataclasses

import pytest

from streamer.settings import (
    DEFAULT_CONFIG,
    ConfigError,
    Settings,
    load_settings,
    tomllib,  # the stdlib module, or tomli on Python 3.10
)


def test_shipped_config_sets_every_field_and_nothing_else():
    with open(DEFAULT_CONFIG, "rb") as handle:
        raw = tomllib.load(handle)
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    assert set(raw) == set(sections)
    settings = load_settings()
    for section in sections:
        fields = {f.name for f in dataclasses.fields(getattr(settings, section))}
        assert set(raw[section]) == fields, section


def test_every_key_in_config_toml_has_a_comment():
    for line in DEFAULT_CONFIG.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"config.toml key without a comment: {line}"


def test_user_file_overrides_only_what_it_sets(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[segmenter]\nhangover_ms = 500\n[model]\npath = 'm.onnx'\n")
    settings = load_settings(config)
    assert settings.segmenter.hangover_ms == 500
    assert settings.segmenter.pre_roll_ms == load_settings().segmenter.pre_roll_ms
    assert settings.model.path == tmp_path / "m.onnx"  # relative to the file that set it


def test_command_line_overrides_beat_files(tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[vad]\naggressiveness = 1\n")
    settings = load_settings(config, {"vad": {"aggressiveness": 3}, "model": {"path": None}})
    assert settings.vad.aggressiveness == 3


def test_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_DIR", str(tmp_path))
    assert load_settings().data.dir == tmp_path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[vad]\nframe_ms = 25\n", "vad.frame_ms must be 10, 20 or 30 (got 25)"),
        ("[vad]\nframe_ms = 'x'\n", "vad.frame_ms must be a whole number"),
        ("[segmenter]\nmax_utterance_s = 0.2\n", "segmenter.max_utterance_s must exceed"),
        ("[replay]\npace = 'slow'\n", "replay.pace must be auto, realtime or fast"),
        ("[audio]\nsample_rate_hz = 44100\n", "audio.sample_rate_hz must be"),
        ("[colour]\nx = 1\n", "unknown section [colour]"),
        ("[vad]\nagressiveness = 1\n", "unknown key vad.agressiveness"),
        ("[vad\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_explained(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert message in str(caught.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")

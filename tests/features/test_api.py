"""Public API, stable names, the feature spec, and the functionals' arithmetic."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from streamer import features
from streamer.features import layout, stats
from tests.features import signals


def test_public_names_and_shapes():
    assert features.SAMPLE_RATE == 16000
    assert isinstance(features.FEATURE_VERSION, str) and features.FEATURE_VERSION
    y = signals.speech_like(1.0)
    out = features.extract(y)
    assert isinstance(out, features.Features)
    assert out.frames.shape == (101, len(features.FRAME_FEATURE_NAMES))
    assert out.vector.shape == (len(features.FEATURE_NAMES),)
    assert out.frames.flags.c_contiguous
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.vector = out.vector  # type: ignore[misc]


def test_one_pass_equals_the_helpers():
    y = signals.speech_like(1.2)
    out = features.extract(y)
    np.testing.assert_array_equal(features.frame_features(y), out.frames)
    np.testing.assert_array_equal(features.functionals(out.frames), out.vector)
    np.testing.assert_array_equal(features.extract_vector(y), out.vector)


def test_extraction_is_deterministic():
    y = signals.speech_like(0.7)
    np.testing.assert_array_equal(features.extract(y).vector, features.extract(y).vector)


def test_names_are_unique_and_stable():
    frame, vector = features.FRAME_FEATURE_NAMES, features.FEATURE_NAMES
    assert len(set(frame)) == len(frame) and len(set(vector)) == len(vector)
    assert frame[:2] == ("logmel_db_0", "logmel_db_1")
    for name in ("mfcc_12", "mfcc_d_0", "mfcc_dd_12", "rms_db", "zcr", "centroid_hz",
                 "bandwidth_hz", "rolloff_hz", "flatness", "flux", "contrast_6", "chroma_11",
                 "f0_st", "voicing", "voiced", "jitter", "shimmer_db", "hnr_db", "loudness",
                 "alpha_ratio_db", "hammarberg_db", "slope_0_500", "slope_500_1500"):
        assert name in frame
    assert len(vector) == 7 * len(frame) + 7 * len(layout.VOICED_ONLY) + len(layout.TEMPORAL)
    assert vector[:7] == tuple(f"logmel_db_0__{s}" for s in layout.STATS)
    assert "f0_st__voiced_p50" in vector and "voiced_fraction" in vector


def test_feature_spec_is_stable_json_describing_the_config():
    spec = features.feature_spec()
    assert spec == features.feature_spec()
    parsed = json.loads(spec)
    assert json.dumps(parsed, sort_keys=True) == spec
    assert parsed["name"] == "ser-live-features"
    assert parsed["version"] == features.FEATURE_VERSION
    assert parsed["sample_rate"] == features.SAMPLE_RATE
    assert parsed["n_features"] == len(features.FEATURE_NAMES)
    assert parsed["n_frame_features"] == len(features.FRAME_FEATURE_NAMES)
    assert parsed["params"] == dataclasses.asdict(features.DEFAULT_CONFIG)


def test_config_changes_the_spec_names_and_output():
    cfg = dataclasses.replace(features.DEFAULT_CONFIG, n_mels=64, n_mfcc=20)
    assert features.feature_spec(cfg) != features.feature_spec()
    names = features.frame_feature_names(cfg)
    assert "logmel_db_63" in names and "mfcc_19" in names
    out = features.extract(signals.speech_like(0.5), cfg)
    assert out.frames.shape[1] == len(names)
    assert out.vector.shape == (len(features.feature_names(cfg)),)


@pytest.mark.parametrize(
    "change",
    [{"win_length": 800}, {"fmax_hz": 9000.0}, {"n_mfcc": 80}, {"delta_width": 4},
     {"contrast_bands": 8}, {"f0_min_hz": 600.0}, {"pitch_stride": 3}, {"hop_length": 161}],
)
def test_invalid_configs_are_refused(change):
    with pytest.raises(ValueError, match="FeatureConfig"):
        dataclasses.replace(features.DEFAULT_CONFIG, **change)


def test_functionals_match_numpy():
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((57, len(features.FRAME_FEATURE_NAMES))).astype(np.float32)
    frames[:, features.FRAME_FEATURE_NAMES.index("voiced")] = 0  # keep the voiced block empty
    vector = features.functionals(frames).reshape(-1)
    per_column = vector[: 7 * frames.shape[1]].reshape(frames.shape[1], 7)
    t = np.arange(57) / 100.0
    np.testing.assert_allclose(per_column[:, 0], frames.mean(0), atol=1e-6)
    np.testing.assert_allclose(per_column[:, 1], frames.std(0), rtol=1e-5, atol=1e-6)
    p10, p50, p90 = np.percentile(frames, [10, 50, 90], axis=0)
    np.testing.assert_allclose(per_column[:, 2:5], np.stack([p10, p50, p90], 1), atol=1e-6)
    np.testing.assert_allclose(per_column[:, 5], p90 - p10, atol=1e-6)
    slopes = np.polyfit(t, frames.astype(np.float64), 1)[0]
    np.testing.assert_allclose(per_column[:, 6], slopes, rtol=1e-4, atol=1e-4)


def test_voiced_only_statistics_use_voiced_frames():
    lay = layout.layout(features.DEFAULT_CONFIG)
    n = 40
    frames = np.zeros((n, len(lay.frame_names)), np.float32)
    voiced = np.zeros(n, bool)
    voiced[5:15] = voiced[25:35] = True
    frames[:, lay.column["voiced"]] = voiced
    f0 = np.where(voiced, np.linspace(40, 50, n), 0.0)
    frames[:, lay.column["f0_st"]] = f0
    jitter = np.where(voiced, 0.01, 0.0)
    jitter[[5, 14, 25, 34]] = 0  # undefined at the ends of voiced runs
    jitter[20] = 0.0
    frames[:, lay.column["jitter"]] = jitter
    vector = dict(zip(lay.vector_names, features.functionals(frames), strict=True))
    assert vector["f0_st__voiced_mean"] == pytest.approx(f0[voiced].mean(), rel=1e-6)
    assert vector["f0_st__voiced_p50"] == pytest.approx(np.median(f0[voiced]), rel=1e-6)
    assert vector["f0_st__voiced_slope"] == pytest.approx(
        np.polyfit(np.flatnonzero(voiced) / 100, f0[voiced], 1)[0], rel=1e-4
    )
    assert vector["jitter__voiced_mean"] == pytest.approx(0.01)
    assert vector["jitter__voiced_std"] == pytest.approx(0.0, abs=1e-7)
    assert vector["voiced_fraction"] == pytest.approx(0.5)
    assert vector["voiced_segments_per_s"] == pytest.approx(2 / 0.4)
    assert vector["voiced_segment_mean_s"] == pytest.approx(0.1)
    assert vector["unvoiced_segment_mean_s"] == pytest.approx(0.1)  # only the gap between


def test_describe_masked_matches_describe_on_the_selection():
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((3, 50)).astype(np.float32)
    mask = rng.random((3, 50)) > 0.4
    times = np.arange(50) / 100.0
    together = stats.describe_masked(rows, mask, times)
    for i in range(3):
        alone = stats.describe(rows[i : i + 1, mask[i]], times[mask[i]])
        np.testing.assert_allclose(together[i], alone[0], rtol=1e-4, atol=1e-5)
    empty = stats.describe_masked(rows, np.zeros_like(mask), times)
    assert np.all(empty == 0)


def test_legacy_constants_describe_what_the_extractor_produces():
    """The names the first version exported, checked against known answers (the README's "40
    log-mel bands, 13 MFCC every 10 ms, 25 ms window") and against the extractor's output, not
    against the values they were assigned from."""
    assert (features.N_MELS, features.N_MFCC) == (40, 13)
    assert features.HOP == features.SAMPLE_RATE // 100  # 10 ms
    assert features.WIN == features.N_FFT == features.SAMPLE_RATE * 25 // 1000  # 25 ms
    names = features.FRAME_FEATURE_NAMES
    assert sum(n.startswith("logmel_db_") for n in names) == features.N_MELS
    assert sum(n.startswith("mfcc_") and n[5:].isdigit() for n in names) == features.N_MFCC
    for seconds in (0.5, 1.0, 2.37):
        n = int(seconds * features.SAMPLE_RATE)
        frames = features.frame_features(signals.speech_like(seconds))
        assert frames.shape[0] == 1 + n // features.HOP
    # A tone in the middle of an FFT bin: the window sets the bin spacing, SR / N_FFT = 40 Hz.
    t = np.arange(features.SAMPLE_RATE) / features.SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 1020.0 * t).astype(np.float32)
    centroid = features.frame_features(tone)[:, names.index("centroid_hz")]
    assert np.median(centroid) == pytest.approx(1020.0, abs=features.SAMPLE_RATE / features.N_FFT)

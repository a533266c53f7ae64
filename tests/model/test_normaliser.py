"""The stream normaliser: cold start, convergence, reset, gain changes and non-speech."""

import numpy as np
import pytest

from streamer.model.normaliser import NormaliserParams, StreamNormaliser, normalise_stream

D = 4
COEF = np.array([1.0, 0.0, 6.3, 0.0])  # columns 0 and 2 move with gain, 1 and 3 do not


def params(**overrides) -> NormaliserParams:
    base = dict(
        mean=np.array([-30.0, 5.0, 10.0, 0.0]),
        std=np.array([4.0, 2.0, 20.0, 1.0]),
        level_coef=COEF,
        prior_level_db=-25.0,
        prior_weight=20.0,
        window=300,
        level_window=10,
    )
    base.update(overrides)
    return NormaliserParams(**base)


def stream(rng, n, mean, std, level_db):
    vectors = mean + std * rng.standard_normal((n, D))
    return vectors, np.full(n, level_db) + rng.normal(0, 1.0, n)


def test_cold_start_scores_like_the_training_prior():
    p = params()
    normaliser = StreamNormaliser(p)
    vector = np.array([-26.0, 7.0, 30.0, 1.0])
    z = normaliser.update(vector, level_db=p.prior_level_db)
    # One utterance against a prior worth 20: the score is within 5 % of the prior's z-score.
    prior_z = (vector - p.mean) / p.std
    assert np.allclose(z, prior_z, rtol=0.05, atol=0.05)
    assert normaliser.adapting and normaliser.seen == 1


def test_a_stream_converges_to_its_own_statistics(rng):
    p = params()
    normaliser = StreamNormaliser(p)
    own_mean, own_std = np.array([-20.0, 9.0, 60.0, 3.0]), np.array([2.0, 1.0, 5.0, 0.5])
    vectors, levels = stream(rng, 400, own_mean, own_std, level_db=-25.0)
    out = np.array([normaliser.update(v, lv) for v, lv in zip(vectors, levels, strict=True)])
    late = out[-150:]
    # Level-free columns end up near the stream's own z-scores (the prior, worth 20 of the
    # 300 utterances in the window, still pulls a little) ...
    assert np.all(np.abs(late[:, [1, 3]].mean(axis=0)) < 0.5)
    assert np.all((late[:, [1, 3]].std(axis=0) > 0.5) & (late[:, [1, 3]].std(axis=0) < 1.2))
    # ... while the first utterances were far from it: the stream differs from the prior.
    assert np.abs(out[0, 1]) > 1.0
    assert not normaliser.adapting


def test_reset_forgets_the_stream(rng):
    p = params()
    normaliser = StreamNormaliser(p)
    vectors, levels = stream(rng, 50, np.array([-20.0, 9.0, 60.0, 3.0]), 1.0, -25.0)
    first = normaliser.update(vectors[0], levels[0])
    for v, lv in zip(vectors[1:], levels[1:], strict=True):
        normaliser.update(v, lv)
    normaliser.reset()
    assert normaliser.seen == 0
    assert np.array_equal(normaliser.update(vectors[0], levels[0]), first)


def test_a_copy_at_another_gain_gives_the_same_scores(rng):
    """Input 12 dB quieter: level columns shift by coef * -12 and the level by -12 dB."""
    p = params()
    vectors, levels = stream(rng, 60, p.mean, p.std, p.prior_level_db)
    speech = np.ones(60, bool)
    loud = normalise_stream(p, vectors, levels, speech)
    quiet = normalise_stream(p, vectors - 12.0 * COEF, levels - 12.0, speech)
    assert np.allclose(loud, quiet, atol=1e-9)


def test_a_change_of_gain_mid_stream_is_followed_within_the_level_window(rng):
    p = params(level_window=5)
    vectors, levels = stream(rng, 80, p.mean, p.std, p.prior_level_db)
    steady = normalise_stream(p, vectors, levels, np.ones(80, bool))
    dropped = vectors.copy()
    dropped[40:] -= 15.0 * COEF  # the user turned the microphone down by 15 dB
    shifted = levels.copy()
    shifted[40:] -= 15.0
    after = normalise_stream(p, dropped, shifted, np.ones(80, bool))
    assert np.allclose(after[:40], steady[:40])
    # Right after the change the level column reads low; five utterances later it does not.
    assert after[40, 0] < steady[40, 0] - 1.0
    assert np.abs(after[50:, 0] - steady[50:, 0]).max() < 0.5


def test_non_speech_is_scored_but_not_learned(rng):
    p = params()
    vectors, levels = stream(rng, 30, p.mean, p.std, p.prior_level_db)
    noise = np.array([[80.0, 50.0, 400.0, 30.0]])
    speech = np.ones(31, bool)
    speech[10] = False
    with_noise = normalise_stream(
        p, np.insert(vectors, 10, noise, axis=0), np.insert(levels, 10, -10.0), speech
    )
    without = normalise_stream(p, vectors, levels, np.ones(30, bool))
    assert np.allclose(np.delete(with_noise, 10, axis=0), without)


def test_metadata_round_trip_and_shape_checks():
    p = params()
    back = NormaliserParams.from_json(p.to_json(), D)
    for field in ("mean", "std", "level_coef"):
        assert np.allclose(getattr(back, field), getattr(p, field))
    assert (back.prior_weight, back.window, back.level_window) == (20.0, 300, 10)
    with pytest.raises(ValueError, match="must be 5 finite numbers"):
        NormaliserParams.from_json(p.to_json(), D + 1)
    broken = p.to_json().replace('"std": [4.0', '"std": [-4.0')
    with pytest.raises(ValueError, match="std must be positive"):
        NormaliserParams.from_json(broken, D)


@pytest.mark.parametrize(
    ("vector", "level_db"),
    [
        ([np.nan, 5.0, 10.0, 0.0], -25.0),
        ([-30.0, np.inf, 10.0, 0.0], -25.0),
        ([-30.0, 5.0, 1e300, 0.0], -25.0),
        ([-30.0, 5.0, 10.0, 0.0], np.nan),
    ],
)
def test_a_vector_that_is_not_finite_is_scored_finite_and_never_kept(rng, vector, level_db):
    """Issue 22.11: a NaN once in the running sums made every later score NaN (a deaf stream)."""
    p = params()
    clean, poisoned = StreamNormaliser(p), StreamNormaliser(p)
    vectors, levels = stream(rng, 30, p.mean, p.std, level_db=-25.0)
    for v, lv in zip(vectors[:10], levels[:10], strict=True):
        clean.update(v, lv)
        poisoned.update(v, lv)
    z = poisoned.update(np.array(vector), level_db)
    assert np.isfinite(z).all()
    assert np.isfinite(poisoned.preview(np.array(vector), level_db)).all()
    for v, lv in zip(vectors[10:], levels[10:], strict=True):
        assert np.array_equal(poisoned.update(v, lv), clean.update(v, lv))
    assert poisoned.seen == clean.seen

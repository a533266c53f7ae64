"""Training scores a corpus as ser-live scores a call: the same normalised vectors."""

import json

import numpy as np
from onnx_factory import write_linear_model
from synth import vowel

from streamer import features
from streamer.model.classifier import Classifier
from training.data import feature_sets
from training.models import streams


def test_training_and_ser_live_normalise_an_utterance_to_the_same_vector(tmp_path):
    utterances = [
        (vowel(0.8 + 0.1 * (i % 5), f0=110 + 9 * i, seed=i) * np.float32(0.3 + 0.05 * i))
        for i in range(14)
    ]
    vectors = np.array([features.extract_vector(u) for u in utterances], dtype=np.float64)
    columns = feature_sets.columns("prosodic")
    coef = streams.level_coefficients(utterances[:4], features.extract_vector)
    level = features.FEATURE_NAMES.index("rms_db__p90")  # the functionals' level column
    recipe = streams.StreamRecipe(
        columns, coef, prior_weight=5.0, window=8, level_window=3, seed=7, level_index=level
    )
    sessions = np.array(["a"] * 7 + ["b"] * 7)
    params = streams.fit_params(recipe, vectors, sessions)
    trained = streams.normalise(params, recipe, vectors[7:], sessions[7:])

    names = [features.FEATURE_NAMES[i] for i in columns]
    model = write_linear_model(
        tmp_path / "m.onnx",
        n_in=len(columns),
        extra={"columns": json.dumps(names), "normaliser": params.to_json()},
    )
    classifier = Classifier(model)
    live = np.empty_like(trained)
    for i in streams.session_order(7, recipe.seed, "b"):  # the order training streamed them
        live[i] = classifier.assess(utterances[7 + i]).normalised
    assert np.allclose(live, trained, rtol=1e-5, atol=1e-5)
    # and the stream state is what made them equal: a fresh classifier in another order differs
    classifier.reset()
    other = np.array([classifier.assess(u).normalised for u in utterances[7:]])
    assert not np.allclose(other, trained, rtol=1e-3, atol=1e-3)


def test_level_coefficients_find_the_columns_that_move_with_gain():
    clips = [vowel(1.0, f0=120 + 10 * i, seed=i) for i in range(3)]
    coef = streams.level_coefficients(clips, features.extract_vector)
    names = features.FEATURE_NAMES
    assert (
        coef[names.index("rms_db__p90")] == np.float64(1.0)
        or abs(coef[names.index("rms_db__p90")] - 1.0) < 1e-3
    )
    assert coef[names.index("f0_st__voiced_mean")] == 0.0
    assert coef[names.index("alpha_ratio_db__mean")] == 0.0


def test_every_corpus_weighs_the_same():
    weights = streams.balanced_weights(np.array(["ravdess"] * 30 + ["emodb"] * 10))
    assert np.isclose(weights[:30].sum(), weights[30:].sum())
    assert np.isclose(weights.mean(), 1.0)

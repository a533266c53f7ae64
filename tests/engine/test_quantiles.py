"""Streaming quantiles: numpy's answer at the given resolution, in memory that does not grow."""

import numpy as np
import pytest

from streamer.engine.quantiles import QuantileCounter


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
def test_quantiles_equal_numpy_on_binned_values(rng, n):
    values = rng.gamma(3.0, 100.0, size=n)
    counter = QuantileCounter(resolution=1.0)
    for v in values:
        counter.add(v)
    binned = np.round(values)
    for q in (0.0, 0.5, 0.95, 1.0):
        assert counter.quantile(q) == pytest.approx(np.percentile(binned, 100 * q))


def test_empty_counter_has_no_quantiles():
    assert QuantileCounter().median_p95() == (None, None)


def test_many_values_are_counted_exactly():
    counter = QuantileCounter(resolution=1.0)
    for i in range(200_000):
        counter.add(300.0 + (i % 5))
    assert counter.count == 200_000
    assert counter.median_p95() == (302.0, 304.0)

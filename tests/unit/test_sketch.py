"""Sketch accuracy, merge and the histogram hot path's bucket arithmetic."""

import math
import random
from fractions import Fraction

import pytest

from devkit.core.sketch import MAX_VALUE, MIN_VALUE, Sketch
from devkit.metrics.instruments import Histogram


def _exact(sorted_values, q):
    # Nearest rank in exact arithmetic: the smallest value with at least q*n values at or below it.
    rank = max(1, math.ceil(Fraction(str(q)) * len(sorted_values)))
    return sorted_values[rank - 1]


def _lognormal(n, seed):
    rng = random.Random(seed)
    return [rng.lognormvariate(-3.0, 1.2) for _ in range(n)]


def test_percentiles_within_one_percent_on_100k_lognormal_durations():
    values = _lognormal(100_000, seed=7)
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99, 0.999):
        exact = _exact(ordered, q)
        assert abs(sketch.quantile(q) - exact) / exact <= 0.01, q
    assert sketch.count == len(values)
    assert sketch.min == ordered[0] and sketch.max == ordered[-1]
    assert sketch.sum == pytest.approx(math.fsum(values), rel=1e-9)


@pytest.mark.parametrize("value", [1e-6, 3.3e-5, 0.0042, 0.5, 1.0, 17.0, 600.0, 3600.0])
def test_relative_error_is_below_one_percent_from_a_microsecond_to_an_hour(value):
    sketch = Sketch()
    sketch.add(value * 0.999)
    sketch.add(value)
    sketch.add(value * 1.001)
    assert abs(sketch.quantile(0.5) - value) / value <= 0.01


def test_merge_of_two_sketches_equals_the_sketch_of_the_union_bucket_for_bucket():
    a_values, b_values = _lognormal(5_000, seed=1), _lognormal(7_000, seed=2)
    a, b, union = Sketch(), Sketch(), Sketch()
    for value in a_values:
        a.add(value)
        union.add(value)
    for value in b_values:
        b.add(value)
        union.add(value)
    merged = a.merge(b)
    assert list(merged.counts) == list(union.counts)
    assert (merged.count, merged.min, merged.max) == (union.count, union.min, union.max)
    assert merged.sum == pytest.approx(union.sum, rel=1e-12)
    assert Sketch.from_dict(merged.to_dict()).to_dict() == merged.to_dict()


def test_histogram_observe_fills_the_same_buckets_as_sketch_add():
    rng = random.Random(3)
    values = [0.0, -1.0, MIN_VALUE / 10, MIN_VALUE, MAX_VALUE, MAX_VALUE * 10, 1e-6, 3600.0]
    values += [10 ** rng.uniform(-8, 6) for _ in range(5_000)]
    histogram, reference = Histogram("h_slots"), Sketch()
    for value in values:
        histogram.observe(value)
        reference.add(value)
    (delta,) = histogram.take()
    assert list(delta.sketch.counts) == list(reference.counts)
    assert (delta.sketch.count, delta.sketch.min, delta.sketch.max) == (len(values), -1.0, MAX_VALUE * 10)
    assert histogram.take() == []


def test_p99_of_two_samples_is_the_worst_one():
    sketch = Sketch()
    for ms in (412, 30000):
        sketch.add(ms / 1000.0)
    assert abs(sketch.quantile(0.99) - 30.0) / 30.0 <= 0.01
    assert abs(sketch.quantile(0.5) - 0.412) / 0.412 <= 0.01


def test_one_outlier_among_twenty_shows_in_p99_and_p95_but_not_p50():
    sketch = Sketch()
    for value in [0.1] * 19 + [2.0]:
        sketch.add(value)
    assert sketch.quantile(0.99) == pytest.approx(2.0, rel=0.01)
    assert sketch.quantile(0.95) == pytest.approx(0.1, rel=0.01)
    assert sketch.quantile(0.5) == pytest.approx(0.1, rel=0.01)


def _samples(kind, n, rng):
    if kind == "lognormal":
        return [rng.lognormvariate(-3.0, 1.2) for _ in range(n)]
    if kind == "uniform":
        return [rng.uniform(0.001, 5.0) for _ in range(n)]
    if kind == "bimodal":
        return [rng.gauss(0.05, 0.005) if rng.random() < 0.8 else rng.gauss(3.0, 0.3) for _ in range(n)]
    return [0.01 * rng.paretovariate(1.5) for _ in range(n)]


@pytest.mark.parametrize("kind", ["lognormal", "uniform", "bimodal", "pareto"])
def test_nearest_rank_within_one_percent_for_every_n(kind):
    rng = random.Random(kind)
    sizes = list(range(1, 201)) + [1000, 4321, 50_000]
    for n in sizes:
        values = [abs(v) + 1e-6 for v in _samples(kind, n, rng)]
        sketch = Sketch()
        for value in values:
            sketch.add(value)
        ordered = sorted(values)
        for q in (0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0):
            exact = _exact(ordered, q)
            assert abs(sketch.quantile(q) - exact) / exact <= 0.01, (kind, n, q)

"""Sketch accuracy, merge and the histogram hot path's bucket arithmetic."""

import math
import random

import pytest

from devkit.core.sketch import MAX_VALUE, MIN_VALUE, Sketch
from devkit.metrics.instruments import Histogram


def _exact(sorted_values, q):
    return sorted_values[int(q * (len(sorted_values) - 1))]


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

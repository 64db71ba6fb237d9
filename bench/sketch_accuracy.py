"""Percentile accuracy and memory per series of devkit's sketch on lognormal durations.

Usage: python bench/sketch_accuracy.py [--samples N]

Prints the relative error of p50/p90/p95/p99/p99.9 against the exact value of
the sorted list (goal: <= 1%), and the memory one series holds (tracemalloc)
after 1e3 and after N samples (goal: the same).
"""

import argparse
import os
import random
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devkit.core.sketch import Sketch  # noqa: E402
from devkit.metrics.instruments import Histogram  # noqa: E402

QUANTILES = (0.5, 0.9, 0.95, 0.99, 0.999)
GOAL_RELATIVE_ERROR = 0.01


def lognormal(n, seed=42):
    """``n`` lognormal durations in seconds (median ~50 ms, long tail)."""
    rng = random.Random(seed)
    return [rng.lognormvariate(-3.0, 1.2) for _ in range(n)]


def accuracy(values):
    """Print the relative error of each quantile; return how many miss the goal."""
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    ordered = sorted(values)
    misses = 0
    print(f"{len(values):,} lognormal samples")
    for q in QUANTILES:
        exact = ordered[int(q * (len(ordered) - 1))]
        error = abs(sketch.quantile(q) - exact) / exact
        misses += error > GOAL_RELATIVE_ERROR
        verdict = "PASS" if error <= GOAL_RELATIVE_ERROR else "FAIL"
        print(
            f"  p{q * 100:g}: exact {exact * 1000:10.4f} ms  sketch {sketch.quantile(q) * 1000:10.4f} ms"
            f"  error {error * 100:.3f}%  {verdict}"
        )
    return misses


def memory_of(make, values):
    """Bytes still allocated by one series built by ``make`` after it took every value."""
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    series = make(values)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    del series
    return size


def _sketch(values):
    sketch = Sketch()
    for value in values:
        sketch.add(value)
    return sketch


def _histogram(values):
    histogram = Histogram("bench_seconds")
    for value in values:
        histogram.observe(value)
    return histogram


def memory(values):
    """Print memory per series at 1e3 and at all samples; return how many goals are missed.

    Both the Sketch (what the store keeps and merges) and a live Histogram series (what
    the app holds between flushes) must take the same memory at 1e3 and at 1e6 values.
    """
    small, large = memory_of(_sketch, values[:1000]), memory_of(_sketch, values)
    same = abs(large - small) <= 0.1 * small
    print(
        f"  Sketch            memory: {small:>8,} B at 1e3 samples, {large:>8,} B at {len(values):,}"
        f"  {'PASS' if same else 'FAIL'} (same)"
    )
    small, large = memory_of(_histogram, values[:1000]), memory_of(_histogram, values)
    series_same = abs(large - small) <= 0.1 * small
    print(
        f"  Histogram series  memory: {small:>8,} B at 1e3 samples, {large:>8,} B at {len(values):,}"
        f"  {'PASS' if series_same else 'FAIL'} (same)"
    )
    return (not same) + (not series_same)


def main(argv=None):
    """Parse options, measure, print; exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    values = lognormal(args.samples)
    failures = accuracy(values) + memory(values)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""A mergeable log-bucket quantile sketch with bounded relative error and fixed memory."""

import math
from array import array

RELATIVE_ACCURACY = 0.0075
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
# Slots are ceil(log2(value) / log2(gamma)): math.log2 is a one-argument C function, twice as fast as math.log.
_INV_LOG_GAMMA = 1.0 / math.log2(_GAMMA)
MIN_VALUE = 1e-7
MAX_VALUE = 1e5
MIN_INDEX = math.ceil(math.log2(MIN_VALUE) * _INV_LOG_GAMMA)
MAX_INDEX = math.ceil(math.log2(MAX_VALUE) * _INV_LOG_GAMMA)
BUCKETS = MAX_INDEX - MIN_INDEX + 2  # slot 0 holds values <= 0


def bucket_slot(value):
    """Return the array slot for ``value``; out-of-range values clamp to the edges."""
    if value <= 0:
        return 0
    if value >= MAX_VALUE:  # also +inf, whose log has no integer ceiling
        return MAX_INDEX - MIN_INDEX + 1
    index = math.ceil(math.log2(value) * _INV_LOG_GAMMA)
    if index < MIN_INDEX:
        index = MIN_INDEX
    elif index > MAX_INDEX:
        index = MAX_INDEX
    return index - MIN_INDEX + 1


def slot_value(slot):
    """Return the representative value of a slot (relative error <= RELATIVE_ACCURACY)."""
    if slot == 0:
        return 0.0
    return 2.0 * _GAMMA ** (slot - 1 + MIN_INDEX) / (_GAMMA + 1.0)


def nearest_rank(q, n):
    """The 1-based rank of the nearest-rank ``q``-quantile among ``n`` values: ceil(q·n), at least 1."""
    # The tolerance keeps float noise (0.95 * 20 = 19.000000000000004) from moving up a whole rank.
    return min(n, max(1, math.ceil(q * n - 1e-9 * n)))


class Sketch:
    """Counts of values per log bucket plus exact count, sum, min and max.

    Memory is fixed (one array of BUCKETS counters) whatever the number of values.
    Two sketches merge by adding counts; the result equals the sketch of the union.
    """

    __slots__ = ("counts", "count", "sum", "min", "max")

    def __init__(self):
        self.counts = array("q", bytes(8 * BUCKETS))
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value, times=1):
        """Record ``value`` (``times`` times)."""
        self.counts[bucket_slot(value)] += times
        self.count += times
        self.sum += value * times
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def merge(self, other):
        """Add every count of ``other`` into this sketch; return self."""
        mine = self.counts
        for slot, n in other.nonzero():
            mine[slot] += n
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        return self

    def nonzero(self):
        """Yield ``(slot, count)`` for every non-empty bucket, lowest first."""
        return ((slot, n) for slot, n in enumerate(self.counts) if n)

    def quantile(self, q):
        """The nearest-rank ``q``-quantile (0..1): the smallest value with at least q·n values at or
        below it (numpy's ``inverted_cdf``), within RELATIVE_ACCURACY; None when empty."""
        if self.count == 0:
            return None
        rank = nearest_rank(q, self.count)
        seen = 0
        for slot, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                return min(max(slot_value(slot), self.min), self.max)
        return self.max

    def quantiles(self, qs):
        """Return ``{q: value}`` for each q in one pass over the buckets."""
        return {q: self.quantile(q) for q in qs}

    @property
    def mean(self):
        """The exact mean, or None when empty."""
        return self.sum / self.count if self.count else None

    def to_dict(self):
        """A JSON-ready form: sparse buckets plus the exact fields."""
        return {
            "buckets": [[s, n] for s, n in self.nonzero()],
            "count": self.count,
            "sum": self.sum,
            "min": self.min if self.count else None,
            "max": self.max if self.count else None,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a sketch from ``to_dict`` output."""
        sketch = cls()
        for slot, n in data.get("buckets", ()):
            sketch.counts[int(slot)] += int(n)
        sketch.count = int(data.get("count", 0))
        sketch.sum = float(data.get("sum", 0.0))
        if sketch.count:
            sketch.min = float(data["min"])
            sketch.max = float(data["max"])
        return sketch

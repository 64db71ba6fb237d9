"""Exact per-series aggregates: operations fold into 10 s buckets once; coarser resolutions roll up.

The recorder (in-process) and the store writer (ingest) fold with the same code, so an
operation costs one dict lookup and a few additions whatever resolutions the store keeps.
"""

import math
from collections import Counter
from itertools import repeat
from operator import mul

from devkit.core import sketch as _sk
from devkit.core.sketch import bucket_slot

_INV_LOG_GAMMA = _sk._INV_LOG_GAMMA
_SLOT_OFFSET = _sk.MIN_INDEX - 1

FINEST_S = 10
RES_TOTAL = 0
RESOLUTIONS = (FINEST_S, 60, 3600, RES_TOTAL)


# The streaming distributions each series keeps beside its latency (time to first token in
# seconds, seconds per output chunk after the first, output tokens per second).
STREAM_DISTS = ("ttft", "tpot", "tps")


class Dist:
    """Exact count, sum, min and max plus log-bucket counts of one value (the latency sketch's buckets)."""

    __slots__ = ("slots", "count", "sum", "min", "max")

    def __init__(self):
        self.slots = {}
        self.count = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value):
        """Count one value."""
        # Inlined bucket_slot() for the usual range, as in Aggregate.add.
        if _sk.MIN_VALUE < value < _sk.MAX_VALUE:
            slot = math.ceil(math.log2(value) * _INV_LOG_GAMMA) - _SLOT_OFFSET
        else:
            slot = bucket_slot(value)
        slots = self.slots
        slots[slot] = slots.get(slot, 0) + 1
        self.count += 1
        self.sum += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    def add_values(self, values):
        """Count every value of ``values`` (a non-empty sequence), column-wise."""
        low, high = min(values), max(values)
        add_slot_counts(self.slots, values, low, high)
        self.count += len(values)
        self.sum += sum(values)
        self.min = min(self.min, low)
        self.max = max(self.max, high)

    def merge(self, other):
        """Add ``other``'s values into this one; return self."""
        add_slots(self.slots, other.slots)
        self.count += other.count
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        return self

    def to_list(self):
        """A JSON-ready form (spill files)."""
        return [sorted(self.slots.items()), self.count, self.sum, self.min, self.max]

    @classmethod
    def from_list(cls, data):
        """Rebuild from ``to_list`` output (None stays None)."""
        if data is None:
            return None
        dist = cls()
        slots, dist.count, dist.sum, dist.min, dist.max = data
        dist.slots = {int(s): int(n) for s, n in slots}
        return dist


def add_slots(slots, other):
    """Add the bucket counts ``other`` ({slot: count}) into ``slots``."""
    if not slots:  # a copy (roll-ups start each coarser row this way): one C-level update
        slots.update(other)
        return
    for slot, n in other.items():
        slots[slot] = slots.get(slot, 0) + n


def add_slot_counts(slots, values, low, high):
    """Add the bucket counts of ``values`` (whose min and max are ``low``, ``high``) into ``slots``."""
    if _sk.MIN_VALUE < low and high < _sk.MAX_VALUE:
        # C-level passes (log, scale, ceil, count): about a third of a per-value Python loop.
        ceilings = Counter(map(math.ceil, map(mul, map(math.log2, values), repeat(_INV_LOG_GAMMA))))
        pairs = ((ceiling - _SLOT_OFFSET, n) for ceiling, n in ceilings.items())
    else:
        pairs = Counter(map(bucket_slot, values)).items()
    for slot, n in pairs:
        slots[slot] = slots.get(slot, 0) + n


def stream_values(ttft_s, after_s, chunks, completion):
    """(ttft_s, seconds per chunk after the first or None, output tokens/s or None) of one streamed call.

    ``after_s`` is the time from the first chunk to the last; tokens/s counts the tokens after the
    first over that time, the model's own generation speed.
    """
    positive = after_s is not None and after_s > 0
    per_chunk = after_s / (chunks - 1) if positive and chunks > 1 else None
    rate = (completion - 1) / after_s if positive and completion > 1 else None
    return ttft_s, per_chunk, rate


def merge_dist(mine, other):
    """``mine`` with ``other`` added (either may be None, meaning no values)."""
    if other is None:
        return mine
    return Dist().merge(other) if mine is None else mine.merge(other)


class Aggregate:
    """Running sums of one (bucket, operation, model, status) series.

    ``cached``/``reasoning`` are token sums; ``ttft``/``tpot``/``tps`` are Dists (None until a
    streamed operation is folded in).
    """

    __slots__ = (
        "count",
        "prompt",
        "completion",
        "cost",
        "hits",
        "misses",
        "slots",
        "dsum",
        "dmin",
        "dmax",
        "first",
        "last",
        "cached",
        "reasoning",
    ) + STREAM_DISTS

    def __init__(self, ts):
        self.count = self.prompt = self.completion = self.hits = self.misses = 0
        self.cached = self.reasoning = 0
        self.ttft = self.tpot = self.tps = None
        self.cost = self.dsum = 0.0
        self.slots = {}
        self.dmin = math.inf
        self.dmax = -math.inf
        self.first = self.last = ts

    def add(self, ts, seconds, prompt, completion, cache_hit, cost):
        """Fold one operation in."""
        self.count += 1
        self.prompt += prompt
        self.completion += completion
        self.cost += cost
        if cache_hit is not None:
            if cache_hit:
                self.hits += 1
            else:
                self.misses += 1
        # Inlined bucket_slot() for the usual range: this runs once per operation (about 0.15 µs saved).
        if _sk.MIN_VALUE < seconds < _sk.MAX_VALUE:
            slot = math.ceil(math.log2(seconds) * _INV_LOG_GAMMA) - _SLOT_OFFSET
        else:
            slot = bucket_slot(seconds)
        self.slots[slot] = self.slots.get(slot, 0) + 1
        self.dsum += seconds
        if seconds < self.dmin:
            self.dmin = seconds
        if seconds > self.dmax:
            self.dmax = seconds
        if ts < self.first:
            self.first = ts
        if ts > self.last:
            self.last = ts

    def add_columns(self, ts, seconds, prompt, completion, cost):
        """Fold in many cache-less operations at once: equal-length sequences of their fields, ``cost`` summed."""
        self.count += len(seconds)
        self.prompt += sum(prompt)
        self.completion += sum(completion)
        self.cost += cost
        low, high = min(seconds), max(seconds)
        add_slot_counts(self.slots, seconds, low, high)
        self.dsum += sum(seconds)
        self.dmin = min(self.dmin, low)
        self.dmax = max(self.dmax, high)
        self.first = min(self.first, min(ts))
        self.last = max(self.last, max(ts))

    def add_llm(self, cached, reasoning, stream):
        """Fold in one operation's cached/reasoning tokens and ``(ttft_s, s_per_chunk, tokens_per_s)``."""
        self.cached += cached
        self.reasoning += reasoning
        if stream is None:
            return
        first, per_chunk, rate = stream
        # Spelled out per sketch: this runs once per streamed operation, getattr/setattr cost more.
        if first is not None:
            (self.ttft or self._new_dist("ttft")).add(first)
        if per_chunk is not None:
            (self.tpot or self._new_dist("tpot")).add(per_chunk)
        if rate is not None:
            (self.tps or self._new_dist("tps")).add(rate)

    def _new_dist(self, name):
        dist = Dist()
        setattr(self, name, dist)
        return dist

    def merge(self, other):
        """Add ``other`` (another series' sums) into this one; return self."""
        self.count += other.count
        self.prompt += other.prompt
        self.completion += other.completion
        self.cost += other.cost
        self.hits += other.hits
        self.misses += other.misses
        add_slots(self.slots, other.slots)
        self.dsum += other.dsum
        self.dmin = min(self.dmin, other.dmin)
        self.dmax = max(self.dmax, other.dmax)
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.cached += other.cached
        self.reasoning += other.reasoning
        self.ttft = merge_dist(self.ttft, other.ttft)
        self.tpot = merge_dist(self.tpot, other.tpot)
        self.tps = merge_dist(self.tps, other.tps)
        return self

    def to_list(self):
        """A JSON-ready form (spill files)."""
        return [
            self.count,
            self.prompt,
            self.completion,
            self.cost,
            self.hits,
            self.misses,
            sorted(self.slots.items()),
            self.dsum,
            self.dmin,
            self.dmax,
            self.first,
            self.last,
            self.cached,
            self.reasoning,
        ] + [None if d is None else d.to_list() for d in (self.ttft, self.tpot, self.tps)]

    @classmethod
    def from_list(cls, data):
        """Rebuild from ``to_list`` output (spill files of older versions lack the LLM fields)."""
        agg = cls(0.0)
        (
            agg.count,
            agg.prompt,
            agg.completion,
            agg.cost,
            agg.hits,
            agg.misses,
            slots,
            agg.dsum,
            agg.dmin,
            agg.dmax,
            agg.first,
            agg.last,
        ) = data[:12]
        agg.slots = {int(s): int(n) for s, n in slots}
        if len(data) > 12:
            agg.cached, agg.reasoning = int(data[12]), int(data[13])
            agg.ttft, agg.tpot, agg.tps = (Dist.from_list(d) for d in data[14:17])
        return agg


def fold(groups, ts, operation, model, status, seconds, prompt, completion, cache_hit, cost):
    """Fold one operation into ``groups`` ({(bucket, operation, model, status): Aggregate}) at 10 s.

    Returns the series' Aggregate (the caller may add the operation's LLM fields to it).
    """
    key = (int(ts // FINEST_S) * FINEST_S, operation, model or "", status)
    group = groups.get(key)
    if group is None:
        group = groups[key] = Aggregate(ts)
    group.add(ts, seconds, prompt, completion, cache_hit, cost)
    return group


def merge_into(groups, other):
    """Add every series of ``other`` into ``groups`` (O(series)); return ``groups``."""
    for key, agg in other.items():
        mine = groups.get(key)
        if mine is None:
            groups[key] = agg
        else:
            mine.merge(agg)
    return groups


def roll_up(groups, keep_s=None, now=None):
    """{(res, bucket, operation, model, status): Aggregate} for every resolution, from 10 s groups.

    Each resolution is rolled up from the one before (60 s rows from 10 s groups, hourly from 60 s,
    totals from hourly): a group is merged about once, not once per resolution. A row with a single
    contributor is that contributor itself, ``groups``' own objects included: read, never changed.
    With ``keep_s`` ({res: seconds}) and ``now``, buckets older than their resolution keeps are left out.
    """
    out = {}
    level = groups
    for res in RESOLUTIONS:
        if res != FINEST_S:
            level = _coarser(level, res)
        for (start, operation, model, status), agg in level.items():
            if keep_s is not None and res in keep_s and start < now - keep_s[res] - res:
                continue
            out[(res, start, operation, model, status)] = agg
    return out


def _coarser(level, res):
    parts = {}
    for (bucket, operation, model, status), agg in level.items():
        key = (bucket // res * res if res else 0, operation, model, status)
        seen = parts.get(key)
        if seen is None:
            parts[key] = agg
        elif isinstance(seen, list):
            seen.append(agg)
        else:
            parts[key] = [seen, agg]
    return {key: _merged(part) if isinstance(part, list) else part for key, part in parts.items()}


def _merged(aggregates):
    total = Aggregate(aggregates[0].first)
    for agg in aggregates:
        total.merge(agg)
    return total

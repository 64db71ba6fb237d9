"""Folding an EventColumns (ingest's fast path) column by column: the writer's fold_records, in C loops.

Events are ordered by (bucket, series) with one sort of integer keys, so each group is a slice of
every column and its sums, extremes and bucket counts are single built-in calls. The result is
what folding the same events one by one gives: the same groups, counts, token sums, buckets and
extremes, and float sums over the same values in the same order.
"""

import math
from collections import Counter
from itertools import accumulate, islice, repeat
from operator import add, floordiv, itemgetter, mod, mul, sub, truediv

from devkit.core import sketch as _sk
from devkit.core.rollup import FINEST_S, Aggregate
from devkit.store.schema import AGG_RETENTION_S


def fold_columns(columns, prices, now, seqs, groups):
    """Fold ``columns`` into ``groups`` (keyed like rollup.fold's, old events at 60 s or 3600 s as
    fold_records does) and return their raw rows as ``_INSERT_PLAIN`` tuples, seq from ``seqs``."""
    count, ts = len(columns), columns.ts
    seconds, costs = _seconds(columns.duration_ms), _costs(columns, prices)
    step, index = _buckets(ts, now)
    names = list(set(zip(columns.operation, columns.model, columns.status)))
    series = {name: n for n, name in enumerate(names)}
    keys = list(map(add, map(mul, index, repeat(len(names))), map(series.__getitem__,
                zip(columns.operation, columns.model, columns.status))))  # fmt: skip
    sizes = sorted(Counter(keys).items())
    # A stable sort: each group is one slice of every column, in input order (float sums as one by one).
    order = sorted(range(count), key=keys.__getitem__)
    pick = itemgetter(*order) if count > 1 else tuple
    ts_by, seconds_by, costs_by = pick(ts), pick(seconds), pick(costs)
    prompt_by, completion_by = (list(accumulate(pick(c), initial=0))
                                for c in (columns.prompt_tokens, columns.completion_tokens))  # fmt: skip
    start = 0
    for (key, size), slots in zip(sizes, _slot_counts(keys, _slots(seconds))):
        bucket, n = divmod(key, len(names))
        operation, model, status = names[n]
        end = start + size
        agg = Aggregate(min(ts_by[start:end]))
        agg.last, agg.count, agg.slots = max(ts_by[start:end]), size, slots
        agg.prompt, agg.completion = (
            prompt_by[end] - prompt_by[start],
            completion_by[end] - completion_by[start],
        )
        agg.cost, agg.dsum = sum(costs_by[start:end]), sum(seconds_by[start:end])
        agg.dmin, agg.dmax = min(seconds_by[start:end]), max(seconds_by[start:end])
        group_key = (bucket * step, operation, model or "", status)
        mine = groups.get(group_key)
        groups[group_key] = agg if mine is None else mine.merge(agg)
        start = end
    return list(zip(islice(seqs, count), ts, columns.operation, columns.model, columns.status, columns.duration_ms,
                    columns.prompt_tokens, columns.completion_tokens, costs))  # fmt: skip


def _slot_counts(keys, slots):
    """{slot: count} of each group, in key order: one C-level count of (key, slot) codes for all groups."""
    counted = sorted(Counter(map(add, map(mul, keys, repeat(_sk.BUCKETS)), slots)).items())
    codes, counts = zip(*counted)
    slot_of = list(map(mod, codes, repeat(_sk.BUCKETS)))
    out, start = [], 0
    for _, size in sorted(Counter(map(floordiv, codes, repeat(_sk.BUCKETS))).items()):
        out.append(dict(zip(slot_of[start : start + size], counts[start : start + size])))
        start += size
    return out


def step_of(ts, now):
    """The bucket width an operation at ``ts`` is first folded at: 10 s, or 60 s / 3600 s when it is
    too old for the finer rows (they would be pruned at once)."""
    if ts >= now - AGG_RETENTION_S[FINEST_S] - 60:
        return FINEST_S
    return 60 if ts >= now - AGG_RETENTION_S[60] - 3600 else 3600


def _buckets(ts, now):
    """(step, integer bucket index per event): one step for the whole chunk when its oldest and newest
    agree, else step 1 with each event's bucket start as its index."""
    step = step_of(min(ts), now)
    if step == step_of(max(ts), now):
        return step, list(map(int, map(floordiv, ts, repeat(step))))
    return 1, [int(t // s) * s for t, s in zip(ts, map(step_of, ts, repeat(now)))]


def _seconds(durations):
    if min(durations) > 0:
        return list(map(truediv, durations, repeat(1000.0)))
    return [d / 1000.0 if d > 0 else 0.0 for d in durations]


def _slots(seconds):
    """Each value's sketch slot: sketch.bucket_slot, inlined as rollup.Aggregate.add does."""
    if _sk.MIN_VALUE < min(seconds) and max(seconds) < _sk.MAX_VALUE:
        logs = map(mul, map(math.log, seconds), repeat(_sk._INV_LOG_GAMMA))
        return list(map(sub, map(math.ceil, logs), repeat(_sk.MIN_INDEX - 1)))
    return list(map(_sk.bucket_slot, seconds))


def _costs(columns, prices):
    if prices is None:
        return [0.0] * len(columns)
    return [
        float(c or 0.0) for c in map(prices, columns.model, columns.prompt_tokens, columns.completion_tokens)
    ]

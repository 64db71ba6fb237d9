"""Folding an EventColumns (ingest's fast path): the writer's fold_records without a record per event.

Bucket starts, seconds and costs are computed a column at a time in C loops; each event is then
added to its group with ``Aggregate.add``, as the record fold does (the same sums, bit for bit).
"""

from itertools import islice, repeat
from operator import floordiv, mul, truediv

from devkit.core.rollup import FINEST_S, Aggregate
from devkit.store.schema import AGG_RETENTION_S


def fold_columns(columns, prices, now, seqs, groups):
    """Fold ``columns`` into ``groups`` (keyed like rollup.fold's, old events at 60 s or 3600 s as
    fold_records does) and return their raw rows as ``_INSERT_PLAIN`` tuples, seq from ``seqs``."""
    ts, models = columns.ts, columns.model
    seconds, costs = _seconds(columns.duration_ms), _costs(columns, prices)
    blank_models = [m or "" for m in models] if None in models else models
    keys = zip(_buckets(ts, now), columns.operation, blank_models, columns.status)
    get = groups.get
    for key, t, sec, prompt, completion, cost in zip(
        keys, ts, seconds, columns.prompt_tokens, columns.completion_tokens, costs
    ):
        agg = get(key)
        if agg is None:
            agg = groups[key] = Aggregate(t)
        agg.add(t, sec, prompt, completion, None, cost)
    return list(
        zip(
            islice(seqs, len(ts)),
            ts,
            columns.operation,
            models,
            columns.status,
            columns.duration_ms,
            columns.prompt_tokens,
            columns.completion_tokens,
            costs,
        )
    )


def step_of(ts, now):
    """The bucket width an operation at ``ts`` is first folded at: 10 s, or 60 s / 3600 s when it is
    too old for the finer rows (they would be pruned at once)."""
    if ts >= now - AGG_RETENTION_S[FINEST_S] - 60:
        return FINEST_S
    return 60 if ts >= now - AGG_RETENTION_S[60] - 3600 else 3600


def _buckets(ts, now):
    """Each event's bucket start: one step for the whole chunk when its oldest and newest agree."""
    step = step_of(min(ts), now)
    if step == step_of(max(ts), now):
        return map(mul, map(int, map(floordiv, ts, repeat(step))), repeat(step))
    return [int(t // s) * s for t, s in zip(ts, map(step_of, ts, repeat(now)))]


def _seconds(durations):
    if min(durations) > 0:
        return list(map(truediv, durations, repeat(1000.0)))
    return [d / 1000.0 if d > 0 else 0.0 for d in durations]


def _costs(columns, prices):
    if prices is None:
        return [0.0] * len(columns)
    costs = list(map(prices, columns.model, columns.prompt_tokens, columns.completion_tokens))
    if set(map(type, costs)) == {float}:
        return costs
    return [float(cost or 0.0) for cost in costs]

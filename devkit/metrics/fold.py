"""Folding queued plain operations into 10 s aggregates and raw rows, a column at a time.

``track()`` queues an operation without labels, cache use, detail, error or later chunks as one
tuple (see ``PLAIN``). A batch of them is cut into columns with ``zip`` and folded per series
with C-level ``sum``/``min``/``max``/``Counter`` passes: per operation that is a fraction of a
Python loop, and the tuples (atomic fields only) are soon left alone by the garbage collector.
"""

from collections import Counter
from functools import partial
from itertools import compress, islice, repeat, starmap
from operator import eq, floordiv, le, mul

from devkit.core.rollup import FINEST_S, Aggregate

# The fields of a queued plain operation, in order. ttft_s is NO_TTFT unless a first token was marked:
# a float, so min() and max() over the column say at C speed whether any (or every) operation streamed.
PLAIN = ("ts", "seconds", "operation", "model", "prompt", "completion", "ttft_s")
NO_TTFT = -1.0
_STREAMED = partial(le, 0.0)


def take_all(queue):
    """Everything in ``queue`` (a deque other threads keep appending to), oldest first."""
    return list(starmap(queue.popleft, repeat((), len(queue))))


def by_series(entries, low, high):
    """({(10 s bucket, operation, model or ""): columns}, entries whose ts is outside [low, high]).

    One series, and no entry out of bounds, is the usual batch.
    """
    columns = tuple(zip(*entries))
    if not (low <= min(columns[0]) and max(columns[0]) <= high):  # a clock gone wrong (NaN included)
        bad = [entry for entry in entries if not low <= entry[0] <= high]
        entries = [entry for entry in entries if low <= entry[0] <= high]
        columns = tuple(zip(*entries))
        if not entries:
            return {}, bad
    else:
        bad = []
    out = {}
    _split(entries, columns, out)
    return out, bad


def _split(entries, columns, out):
    # One dimension at a time, each part picked out with C-level compress(): a Python loop per
    # entry costs about twice as much as a pass per distinct value.
    ts, operations, models = columns[0], columns[2], columns[3]
    low, high = min(ts), max(ts)
    if low // FINEST_S != high // FINEST_S:
        values = list(map(floordiv, ts, repeat(FINEST_S)))
    elif len(set(operations)) > 1:
        values = operations
    elif len(set(models)) > 1:
        values = models
    else:
        key = (int(low // FINEST_S) * FINEST_S, operations[0], models[0] or "")
        seen = out.get(key)  # model None and "" are one series
        out[key] = columns if seen is None else tuple(map(tuple.__add__, seen, columns))
        return
    for value in set(values):
        part = list(compress(entries, map(eq, values, repeat(value))))
        _split(part, tuple(zip(*part)), out)


def series_costs(cost_of, model, prompts, completions):
    """(total cost, per-row costs) of one series' operations; ``cost_of(model, prompt, completion)``."""
    if not any(prompts) and not any(completions):
        return 0.0, repeat(0.0)
    pairs = Counter(zip(prompts, completions))
    price = {pair: cost_of(model, *pair) for pair in pairs}
    total = sum(price[pair] * n for pair, n in pairs.items())
    if len(price) == 1:
        return total, repeat(next(iter(price.values())))
    return total, map(price.__getitem__, zip(prompts, completions))


def fold_series(groups, key, columns, cost_of):
    """Fold one series' columns into ``groups`` (status ``ok``); return (per-row costs, whether any streamed)."""
    ts, seconds, _operations, models, prompts, completions, ttfts = columns
    total, costs = series_costs(cost_of, models[0], prompts, completions)
    group_key = key + ("ok",)
    group = groups.get(group_key)
    if group is None:
        group = groups[group_key] = Aggregate(ts[0])
    group.add_columns(ts, seconds, prompts, completions, total)
    any_streamed = streamed(columns)
    if any_streamed:
        _fold_first_tokens(group, seconds, completions, ttfts)
    return costs, any_streamed


def _fold_first_tokens(group, seconds, completions, ttfts):
    # The streamed ones saw one chunk: no time per chunk; tokens/s over the time after the first token.
    dist = group.ttft or group._new_dist("ttft")
    every = min(ttfts) >= 0.0
    dist.add_values(ttfts if every else list(filter(_STREAMED, ttfts)))
    if max(completions) <= 1:
        return
    rates = [
        (completion - 1) / (total - first)
        for total, completion, first in zip(seconds, completions, ttfts)
        if first >= 0.0 and completion > 1 and total > first
    ]
    if rates:
        (group.tps or group._new_dist("tps")).add_values(rates)


def streamed(columns):
    """True when some operation of the series marked a first token (its rows need the full columns)."""
    return max(columns[6]) >= 0.0


def plain_rows(columns, costs, room):
    """At most ``room`` raw rows of one series that did not stream, as ``(ts, operation, model, status,
    duration_ms, prompt, completion, cost)`` tuples."""
    ts, seconds, operations, models, prompts, completions, _ttfts = columns
    millis = map(mul, seconds, repeat(1000.0))
    return list(islice(zip(ts, operations, models, repeat("ok"), millis, prompts, completions, costs), room))


def streamed_rows(columns, costs, room):
    """At most ``room`` raw rows of one series that streamed: ``plain_rows``' columns plus ``ttft_ms, chunks``
    (None, None for its operations that did not stream)."""
    ts, seconds, operations, models, prompts, completions, ttfts = columns
    millis = map(mul, seconds, repeat(1000.0))
    if min(ttfts) >= 0.0:  # every operation of the series streamed: C-level passes
        ttft_ms, chunks = map(mul, ttfts, repeat(1000.0)), repeat(1)
    else:
        ttft_ms = [None if first < 0.0 else first * 1000.0 for first in ttfts]
        chunks = [None if first < 0.0 else 1 for first in ttfts]
    rows = zip(ts, operations, models, repeat("ok"), millis, prompts, completions, costs, ttft_ms, chunks)
    return list(islice(rows, room))

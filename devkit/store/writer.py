"""Writing one Batch in one transaction: raw operations, aggregates, instrument deltas, pruning."""

import json
import sqlite3
import time

from devkit.core.sketch import bucket_slot
from devkit.store.codec import operation_row, pack_counts, pack_slots
from devkit.store.schema import AGG_RETENTION_S, RESOLUTIONS, immediate

PRUNE_EVERY_S = 60.0
_LOCK_RETRIES = 8

_INSERT_OPERATION = (
    "INSERT INTO operations (epoch, id, ts, operation, model, status, duration_ms, prompt_tokens,"
    " completion_tokens, cache_hit, cost, error, detail, labels) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_UPSERT_AGGREGATE = """
INSERT INTO aggregates (epoch, res, bucket, operation, model, status, count, prompt_tokens,
    completion_tokens, cost, cache_hits, cache_misses, dur_sum, dur_min, dur_max, sketch, created_ts, last_ts)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (epoch, res, bucket, operation, model, status) DO UPDATE SET
    count = count + excluded.count, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens, cost = cost + excluded.cost,
    cache_hits = cache_hits + excluded.cache_hits, cache_misses = cache_misses + excluded.cache_misses,
    dur_sum = dur_sum + excluded.dur_sum, dur_min = min(dur_min, excluded.dur_min),
    dur_max = max(dur_max, excluded.dur_max), sketch = devkit_merge(sketch, excluded.sketch),
    created_ts = min(created_ts, excluded.created_ts), last_ts = max(last_ts, excluded.last_ts)
"""
_UPSERT_INSTRUMENT = """
INSERT INTO instruments (epoch, name, labels, kind, help, value, sketch, dur_sum, dur_min, dur_max,
    count, created_ts, updated_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (epoch, name, labels) DO UPDATE SET
    value = CASE WHEN excluded.kind = 'counter' THEN value + excluded.value ELSE excluded.value END,
    sketch = CASE WHEN excluded.sketch IS NULL THEN sketch ELSE devkit_merge(sketch, excluded.sketch) END,
    dur_sum = coalesce(dur_sum, 0) + coalesce(excluded.dur_sum, 0),
    dur_min = min(coalesce(dur_min, excluded.dur_min), coalesce(excluded.dur_min, dur_min)),
    dur_max = max(coalesce(dur_max, excluded.dur_max), coalesce(excluded.dur_max, dur_max)),
    count = coalesce(count, 0) + coalesce(excluded.count, 0),
    help = CASE WHEN excluded.help != '' THEN excluded.help ELSE help END, updated_ts = excluded.updated_ts
"""


class _Aggregate:
    """Running sums of one (resolution, bucket, operation, model, status) group of a batch."""

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
    )

    def __init__(self, ts):
        self.count = self.prompt = self.completion = self.hits = self.misses = 0
        self.cost = self.dsum = 0.0
        self.slots = {}
        self.dmin = float("inf")
        self.dmax = float("-inf")
        self.first = self.last = ts

    def add(self, rec, seconds, slot, cost):
        """Fold one operation in."""
        self.count += 1
        self.prompt += rec.prompt_tokens or 0
        self.completion += rec.completion_tokens or 0
        self.cost += cost
        if rec.cache_hit is not None:
            if rec.cache_hit:
                self.hits += 1
            else:
                self.misses += 1
        self.slots[slot] = self.slots.get(slot, 0) + 1
        self.dsum += seconds
        self.dmin = min(self.dmin, seconds)
        self.dmax = max(self.dmax, seconds)
        self.first = min(self.first, rec.ts)
        self.last = max(self.last, rec.ts)


def record_cost(record, prices):
    """The record's cost, computed from ``prices(model, prompt, completion)`` when it is missing."""
    if record.cost or prices is None:
        return float(record.cost or 0.0)
    return float(prices(record.model, record.prompt_tokens or 0, record.completion_tokens or 0) or 0.0)


def aggregate(records, costs):
    """Group operations by every resolution's bucket; returns {key: _Aggregate}."""
    groups = {}
    for rec, cost in zip(records, costs):
        seconds = max(float(rec.duration_ms), 0.0) / 1000.0
        slot = bucket_slot(seconds)
        ts = float(rec.ts)
        for res in RESOLUTIONS:
            bucket = int(ts // res) * res if res else 0
            key = (res, bucket, rec.operation, rec.model or "", rec.status)
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Aggregate(ts)
            group.add(rec, seconds, slot, cost)
    return groups


def aggregate_rows(epoch, groups):
    """Parameter tuples for the aggregate upsert."""
    for (res, bucket, operation, model, status), g in groups.items():
        blob = pack_slots(sorted(g.slots.items()))
        yield (epoch, res, bucket, operation, model, status, g.count, g.prompt, g.completion, g.cost,
               g.hits, g.misses, g.dsum, g.dmin, g.dmax, blob, g.first, g.last)  # fmt: skip


def instrument_rows(epoch, deltas, now):
    """Parameter tuples for the instrument upsert."""
    for d in deltas:
        labels = json.dumps(dict(d.labels or ()), sort_keys=True)
        sketch = d.sketch
        if sketch is not None and sketch.count:
            hist = (pack_counts(sketch), sketch.sum, sketch.min, sketch.max, sketch.count)
        else:
            hist = (None, None, None, None, None)
        yield (epoch, d.name, labels, d.kind, d.help or "", float(d.value or 0.0)) + hist + (now, now)


def write(conn, batch, prices=None, now=None):
    """Write ``batch`` in one IMMEDIATE transaction, retrying while another writer holds the lock."""
    records = list(batch.operations)
    costs = [record_cost(r, prices) for r in records]
    groups = aggregate(records, costs)
    now = time.time() if now is None else now
    for attempt in range(_LOCK_RETRIES):
        try:
            return _write_once(conn, records, costs, groups, batch.instruments, now)
        except sqlite3.OperationalError as exc:
            if not _is_lock_error(exc) or attempt == _LOCK_RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    return None


def _write_once(conn, records, costs, groups, deltas, now):
    with immediate(conn):
        epoch = current_epoch(conn)
        conn.executemany(_INSERT_OPERATION, (operation_row(epoch, r, c) for r, c in zip(records, costs)))
        conn.executemany(_UPSERT_AGGREGATE, aggregate_rows(epoch, groups))
        conn.executemany(_UPSERT_INSTRUMENT, instrument_rows(epoch, deltas, now))
    return epoch


def current_epoch(conn):
    """The reset epoch readers and writers agree on (read inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    return int(row[0]) if row else 0


def prune(conn, now, retention_days):
    """Drop raw operations older than the retention and aggregate rows past their resolution's life."""
    with immediate(conn):
        last = conn.execute("SELECT value FROM meta WHERE key = 'last_prune_ts'").fetchone()
        if last and now - float(last[0]) < PRUNE_EVERY_S:
            return False
        conn.execute("DELETE FROM operations WHERE ts < ?", (now - retention_days * 86400.0,))
        for res, keep_s in AGG_RETENTION_S.items():
            conn.execute("DELETE FROM aggregates WHERE res = ? AND bucket < ?", (res, now - keep_s - res))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_prune_ts', ?)", (repr(now),))
    return True


def _is_lock_error(exc):
    text = str(exc).lower()
    return "locked" in text or "busy" in text

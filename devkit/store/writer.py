"""Writing one Batch in one transaction: raw rows, rolled-up aggregates, instrument deltas, counters, pruning."""

import json
import os
import sqlite3
import time
import warnings

from devkit.core.rollup import Aggregate, fold, merge_into, roll_up
from devkit.store.codec import operation_row, pack_counts, pack_slots
from devkit.store.schema import AGG_RETENTION_S, BUSY_TIMEOUT_MS, immediate

PRUNE_EVERY_S = 60.0
SPILL_NAMES_KEPT_S = 3600.0
_LOCK_RETRIES = 8
OVERFLOW = "__overflow__"
DEFAULT_MAX_SERIES = 500
_WARNED = set()

_INSERT_OPERATION = (
    "INSERT INTO operations (epoch, id, ts, operation, model, status, duration_ms, prompt_tokens,"
    " completion_tokens, cache_hit, cost, error, detail, labels) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_ADD_COUNTER = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)"
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


def record_cost(record, prices):
    """The record's cost, computed from ``prices(model, prompt, completion)`` when it is missing."""
    if record.cost or prices is None:
        return float(record.cost or 0.0)
    return float(prices(record.model, record.prompt_tokens or 0, record.completion_tokens or 0) or 0.0)


def fold_records(records, prices):
    """10 s aggregates and raw rows of OperationRecords (ingest, tests): one fold per record."""
    groups, rows = {}, []
    for rec in records:
        cost = record_cost(rec, prices)
        prompt, completion = int(rec.prompt_tokens or 0), int(rec.completion_tokens or 0)
        seconds = max(float(rec.duration_ms), 0.0) / 1000.0
        fold(groups, float(rec.ts), rec.operation, rec.model, rec.status, seconds, prompt, completion,
             rec.cache_hit, cost)  # fmt: skip
        rows.append(operation_row(rec, cost))
    return groups, rows


def aggregate_rows(epoch, rolled):
    """Parameter tuples for the aggregate upsert from rolled-up groups."""
    for (res, bucket, operation, model, status), g in rolled.items():
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


def write(conn, batch, prices=None, now=None, deadline=None, spill_name=None, max_series=None):
    """Write ``batch`` in one IMMEDIATE transaction, retrying while another writer holds the lock.

    With ``deadline`` (a ``time.monotonic()`` value) it gives up then, raising the lock error.
    A ``spill_name`` is remembered in the same transaction; a name seen before writes nothing.
    Past ``max_series`` (operation, model) pairs in the store, new pairs fold into ``__overflow__``.
    """
    groups, rows = fold_records(batch.operations, prices)
    now = time.time() if now is None else now
    # Fresh objects first: merge_into then changes only those, never the caller's aggregates.
    groups = merge_into(groups, batch.aggregates)
    cap = DEFAULT_MAX_SERIES if max_series is None else int(max_series)
    rows.extend(batch.rows)
    counters = {"operations_not_kept": batch.not_kept, "records_dropped": batch.dropped}
    attempt = 0
    while True:
        _set_busy_timeout(conn, deadline)
        try:
            return _write_once(conn, rows, (groups, cap), batch.instruments, counters, now, spill_name)
        except sqlite3.OperationalError as exc:
            attempt += 1
            if not _is_lock_error(exc) or attempt >= _LOCK_RETRIES or _past(deadline):
                raise
            time.sleep(0.05 * attempt)


def _set_busy_timeout(conn, deadline):
    if deadline is not None:
        left_ms = max(0, int((deadline - time.monotonic()) * 1000))
        conn.execute(f"PRAGMA busy_timeout = {min(left_ms, BUSY_TIMEOUT_MS)}")


def _past(deadline):
    return deadline is not None and time.monotonic() >= deadline


def _write_once(conn, rows, capped_groups, deltas, counters, now, spill_name):
    with immediate(conn):
        epoch = current_epoch(conn)
        if spill_name is not None:
            if conn.execute("SELECT 1 FROM spills WHERE name = ?", (spill_name,)).fetchone():
                return epoch
            conn.execute("INSERT INTO spills (name, ts) VALUES (?, ?)", (spill_name, now))
        groups, overflowed = cap_series(conn, epoch, *capped_groups)
        rolled = roll_up(groups, AGG_RETENTION_S, now)
        conn.executemany(_INSERT_OPERATION, ((epoch,) + row for row in rows))
        conn.executemany(_UPSERT_AGGREGATE, aggregate_rows(epoch, rolled))
        conn.executemany(_UPSERT_INSTRUMENT, instrument_rows(epoch, deltas, now))
        for key, value in dict(counters, series_overflowed=overflowed).items():
            if value:
                conn.execute(_ADD_COUNTER, (key, str(int(value))))
    return epoch


def cap_series(conn, epoch, groups, max_series):
    """``groups`` with (operation, model) pairs new past ``max_series`` folded into ``__overflow__``.

    Returns (groups, operations folded). Admitted pairs are remembered in the ``series`` table inside
    the caller's transaction; the caller's Aggregate objects are never changed (a retry repeats this).
    """
    conn.execute("CREATE TABLE IF NOT EXISTS series (epoch INTEGER, operation TEXT, model TEXT,"
                 " PRIMARY KEY (epoch, operation, model)) WITHOUT ROWID")  # fmt: skip
    known = conn.execute("SELECT count(*) FROM series WHERE epoch = ?", (epoch,)).fetchone()[0]
    admitted, out, overflowed = {}, {}, 0
    for key, agg in groups.items():
        pair = (key[1], key[2])
        if pair not in admitted:
            state = "old" if pair == (OVERFLOW, OVERFLOW) else _admit(conn, epoch, pair, known < max_series)
            known += state == "new"
            admitted[pair] = bool(state)
        if admitted[pair]:
            out[key] = agg
            continue
        overflowed += agg.count
        spill_key = (key[0], OVERFLOW, OVERFLOW, key[3])
        mine = out.get(spill_key)
        copy = Aggregate.from_list(agg.to_list())
        out[spill_key] = copy if mine is None else mine.merge(copy)
    if overflowed and "series" not in _WARNED:
        _WARNED.add("series")
        warnings.warn(f"devkit: metrics more than {max_series} (operation, model) series; new ones are counted"
                      f" under {OVERFLOW!r}", RuntimeWarning)  # fmt: skip
    return out, overflowed


def _admit(conn, epoch, pair, room):
    """ "old" for a pair the store has, "new" when admitted now, "" when there is no room."""
    row = conn.execute("SELECT 1 FROM series WHERE epoch = ? AND operation = ? AND model = ?",
                       (epoch,) + pair).fetchone()  # fmt: skip
    if row:
        return "old"
    if not room:
        return ""
    conn.execute("INSERT INTO series (epoch, operation, model) VALUES (?, ?, ?)", (epoch,) + pair)
    return "new"


def read_counter(conn, key):
    """An integer counter kept in ``meta`` (0 when never written)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def current_epoch(conn):
    """The reset epoch readers and writers agree on (read inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    return int(row[0]) if row else 0


def prune(conn, now, retention_days, spill_dir=None):
    """Drop raw operations older than the retention and aggregate rows past their resolution's life.

    With ``spill_dir``, names of spill files taken in over an hour ago and gone from it are forgotten
    (a journal per flush would grow the table for good; a gone file can never be taken in again).
    """
    with immediate(conn):
        last = conn.execute("SELECT value FROM meta WHERE key = 'last_prune_ts'").fetchone()
        if last and now - float(last[0]) < PRUNE_EVERY_S:
            return False
        conn.execute("DELETE FROM operations WHERE ts < ?", (now - retention_days * 86400.0,))
        for res, keep_s in AGG_RETENTION_S.items():
            conn.execute("DELETE FROM aggregates WHERE res = ? AND bucket < ?", (res, now - keep_s - res))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_prune_ts', ?)", (repr(now),))
        if spill_dir is not None:
            old = conn.execute("SELECT name FROM spills WHERE ts < ?", (now - SPILL_NAMES_KEPT_S,)).fetchall()
            gone = [(name,) for (name,) in old if not os.path.exists(os.path.join(spill_dir, name))]
            conn.executemany("DELETE FROM spills WHERE name = ?", gone)
    return True


def _is_lock_error(exc):
    text = str(exc).lower()
    return "locked" in text or "busy" in text

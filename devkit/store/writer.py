"""Writing one Batch in one transaction: raw rows, rolled-up aggregates, instrument deltas, counters, pruning."""

import itertools
import json
import os
import sqlite3
import time
import warnings

from devkit.core.chunks import EventColumns
from devkit.core.rollup import STREAM_DISTS, Aggregate, merge_into, roll_up, stream_values
from devkit.store import sources
from devkit.store.codec import operation_row, pack_counts, pack_slots
from devkit.store.columns import fold_columns, step_of
from devkit.store.schema import AGG_RETENTION_S, BUSY_TIMEOUT_MS, immediate

PRUNE_EVERY_S = 60.0
SPILL_NAMES_KEPT_S = 3600.0
_LOCK_RETRIES = 8
OVERFLOW = "__overflow__"
DEFAULT_MAX_SERIES = 500
_WARNED = set()

_INSERT_OPERATION = (
    "INSERT INTO operations (seq, epoch, id, ts, operation, model, status, duration_ms, prompt_tokens,"
    " completion_tokens, cache_hit, cost, error, detail, labels, cached_prompt_tokens, reasoning_tokens, ttft_ms,"
    " chunks) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_PLAIN = (
    "INSERT INTO operations (seq, epoch, ts, operation, model, status, duration_ms, prompt_tokens,"
    " completion_tokens, cost) VALUES (?,{epoch},?,?,?,?,?,?,?,?)"
)
# A recorder's plain rows, seq bound last: each parameter tuple is the row plus (seq,), joined in C.
_INSERT_RECORDED = (
    "INSERT INTO operations (ts, operation, model, status, duration_ms, prompt_tokens, completion_tokens, cost,"
    " seq, epoch) VALUES (?,?,?,?,?,?,?,?,?,{epoch})"
)
# The same for streamed ones: plus time to first token and chunk count.
_INSERT_STREAMED = (
    "INSERT INTO operations (ts, operation, model, status, duration_ms, prompt_tokens, completion_tokens, cost,"
    " ttft_ms, chunks, seq, epoch) VALUES (?,?,?,?,?,?,?,?,?,?,?,{epoch})"
)
_ADD_COUNTER = (
    "INSERT INTO meta (key, value) VALUES (?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)"
)
_LLM_COLUMNS = ["cached_prompt_tokens", "reasoning_tokens"] + [
    f"{name}_{part}" for name in STREAM_DISTS for part in ("sketch", "count", "sum", "min", "max")
]
_LLM_UPDATES = "".join(
    (
        f", cached_prompt_tokens = cached_prompt_tokens + excluded.cached_prompt_tokens"
        f", reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens"
        if name is None
        else f", {name}_sketch = devkit_merge({name}_sketch, excluded.{name}_sketch)"
        f", {name}_count = {name}_count + excluded.{name}_count, {name}_sum = {name}_sum + excluded.{name}_sum"
        f", {name}_min = min(coalesce({name}_min, excluded.{name}_min), coalesce(excluded.{name}_min, {name}_min))"
        f", {name}_max = max(coalesce({name}_max, excluded.{name}_max), coalesce(excluded.{name}_max, {name}_max))"
    )
    for name in (None,) + STREAM_DISTS
)
_UPSERT_BASE = """
INSERT INTO aggregates (epoch, res, bucket, operation, model, status, count, prompt_tokens,
    completion_tokens, cost, cache_hits, cache_misses, dur_sum, dur_min, dur_max, sketch, created_ts, last_ts{columns})
VALUES ({marks})
ON CONFLICT (epoch, res, bucket, operation, model, status) DO UPDATE SET
    count = count + excluded.count, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
    completion_tokens = completion_tokens + excluded.completion_tokens, cost = cost + excluded.cost,
    cache_hits = cache_hits + excluded.cache_hits, cache_misses = cache_misses + excluded.cache_misses,
    dur_sum = dur_sum + excluded.dur_sum, dur_min = min(dur_min, excluded.dur_min),
    dur_max = max(dur_max, excluded.dur_max), sketch = devkit_merge(sketch, excluded.sketch),
    created_ts = min(created_ts, excluded.created_ts), last_ts = max(last_ts, excluded.last_ts){updates}
"""
_UPSERT_AGGREGATE = _UPSERT_BASE.format(
    columns=", " + ", ".join(_LLM_COLUMNS),
    marks=",".join("?" * (18 + len(_LLM_COLUMNS))),
    updates=_LLM_UPDATES,
)
# Rows without LLM values leave those columns to their defaults (the values _dist_fields gives for none):
# 17 fewer parameters to bind and no sketch merge to call on a conflict.
_UPSERT_AGGREGATE_PLAIN = _UPSERT_BASE.format(columns="", marks=",".join("?" * 18), updates="")
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
    """The record's cost, from ``prices(model, prompt, completion[, cached_prompt])`` when it is missing."""
    if record.cost or prices is None:
        return float(record.cost or 0.0)
    cached = int(record.cached_prompt_tokens or 0)
    # Cached prompt tokens are priced apart only by a ``prices`` that takes them (Config.cost does).
    extra = (cached,) if cached else ()
    return float(
        prices(record.model, record.prompt_tokens or 0, record.completion_tokens or 0, *extra) or 0.0
    )


def fold_records(records, prices, now, seqs):
    """Aggregates (keyed like rollup.fold's) and raw rows of OperationRecords (ingest, the server).

    Returns ``(groups, rows, plain)``: ``plain`` holds the rows with no id, cache flag, error, detail
    or labels as ``_INSERT_PLAIN`` tuples (seq from ``seqs``), ``rows`` the others as operation_row
    tuples. An operation too old for the 10 s (or 60 s) rows is folded straight into its 60 s (or
    hourly) bucket: roll_up then writes the same rows from far fewer groups (old logs). An
    EventColumns among ``records`` (all its events) is folded column by column."""
    groups, rows, plain = {}, [], []
    for rec in records:
        if type(rec) is EventColumns:
            plain += fold_columns(rec, prices, now, seqs, groups)
            continue
        cost = record_cost(rec, prices) if prices is not None or rec.cost else 0.0
        ts = float(rec.ts)
        step = step_of(ts, now)
        key = (int(ts // step) * step, rec.operation, rec.model or "", rec.status)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Aggregate(ts)
        prompt, completion = int(rec.prompt_tokens or 0), int(rec.completion_tokens or 0)
        seconds = rec.duration_ms / 1000.0 if rec.duration_ms > 0 else 0.0
        group.add(ts, seconds, prompt, completion, rec.cache_hit, cost)
        streamed = _fold_llm(group, rec, seconds)
        if _is_plain(rec) and not streamed:
            row = (
                ts,
                rec.operation,
                rec.model or None,
                rec.status,
                float(rec.duration_ms),
                prompt,
                completion,
                cost,
            )
            plain.append((next(seqs),) + row)
        else:
            rows.append(operation_row(rec, cost))
    return groups, rows, plain


def _is_plain(rec):
    """True when the record fills only the columns of ``_INSERT_PLAIN``."""
    return (
        rec.id is None
        and rec.cache_hit is None
        and rec.error is None
        and rec.detail is None
        and not rec.labels
    )


def _fold_llm(group, rec, seconds):
    """Fold an ingested record's cached/reasoning tokens and stream timings; True when it had any."""
    if not (rec.cached_prompt_tokens or rec.reasoning_tokens or rec.ttft_ms is not None):
        return False
    group.add_llm(rec.cached_prompt_tokens or 0, rec.reasoning_tokens or 0, _record_stream(rec, seconds))
    return True


def _record_stream(rec, seconds):
    """The streaming values of an ingested record: its ttft_ms, chunks and the rest of its duration."""
    if rec.ttft_ms is None:
        return None
    ttft_s = rec.ttft_ms / 1000.0
    return stream_values(ttft_s, seconds - ttft_s, rec.chunks or 1, int(rec.completion_tokens or 0))


def _dist_fields(dist):
    if dist is None or not dist.count:
        return (None, 0, 0.0, None, None)
    return (pack_slots(sorted(dist.slots.items())), dist.count, dist.sum, dist.min, dist.max)


def aggregate_rows(epoch, rolled):
    """(rows without LLM values, rows with them): parameter tuples for ``_UPSERT_AGGREGATE_PLAIN`` and
    ``_UPSERT_AGGREGATE`` from rolled-up groups."""
    plain, full = [], []
    # In key order: rows then fill pages one after another instead of splitting them (a denser store).
    for (res, bucket, operation, model, status), g in sorted(rolled.items(), key=_first):
        row = _base_row(epoch, res, bucket, operation, model, status, g)
        if g.ttft is None and g.tpot is None and g.tps is None and not g.cached and not g.reasoning:
            plain.append(row)
        else:
            full.append(
                row
                + (g.cached, g.reasoning)
                + _dist_fields(g.ttft)
                + _dist_fields(g.tpot)
                + _dist_fields(g.tps)
            )
    return plain, full


def _base_row(epoch, res, bucket, operation, model, status, g):
    blob = pack_slots(sorted(g.slots.items()))
    head = (epoch, res, bucket, operation, model, status, g.count, g.prompt, g.completion, g.cost, g.hits)
    return head + (g.misses, g.dsum, g.dmin, g.dmax, blob, g.first, g.last)


def _first(item):
    return item[0]


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


def write(
    conn,
    batch,
    prices=None,
    now=None,
    deadline=None,
    spill_name=None,
    cursor=None,
    stats=None,
    max_series=None,
):
    """Write ``batch`` in one IMMEDIATE transaction, retrying while another writer holds the lock.

    With ``deadline`` (a ``time.monotonic()`` value) it gives up then, raising the lock error.
    A ``spill_name`` is remembered in the same transaction; a name seen before writes nothing.
    Operations whose given id was counted before are left out (``stats["duplicates"]`` says how
    many); an ingest ``cursor`` is committed with the rows it covers.
    Past ``max_series`` (operation, model) pairs in the store, new pairs fold into ``__overflow__``.
    """
    now = time.time() if now is None else now
    cap = DEFAULT_MAX_SERIES if max_series is None else int(max_series)
    counters = {"operations_not_kept": batch.not_kept, "records_dropped": batch.dropped}
    attempt = 0
    while True:
        _set_busy_timeout(conn, deadline)
        try:
            with immediate(conn):
                return _write_once(conn, batch, prices, counters, now, spill_name, cursor, stats, cap)
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


def _write_once(conn, batch, prices, counters, now, spill_name, cursor, stats, cap):
    epoch = current_epoch(conn)
    if spill_name is not None:
        if conn.execute("SELECT 1 FROM spills WHERE name = ?", (spill_name,)).fetchone():
            return epoch
        conn.execute("INSERT INTO spills (name, ts) VALUES (?, ?)", (spill_name, now))
    # Ids are checked inside the transaction, so two ingests of one file at once still count each event once.
    records, duplicates = sources.unseen(conn, batch.operations, now)
    if stats is not None:
        stats["duplicates"] = duplicates
    seqs = itertools.count(read_counter(conn, "next_seq") or 1)
    groups, rows, plain = fold_records(records, prices, now, seqs)
    # Fresh objects first: merge_into then changes only those, never the caller's aggregates.
    groups, overflowed = cap_series(conn, epoch, merge_into(groups, batch.aggregates), cap)
    rolled = roll_up(groups, AGG_RETENTION_S, now)
    # Rows from spill files of older versions lack the LLM columns: they were not streamed.
    recorded = [row + (0, 0, None, None)[len(row) - 13 :] if len(row) < 17 else row for row in batch.rows]
    _insert_operations(conn, epoch, seqs, plain, rows + recorded, batch.plain, batch.streamed)
    plain_rows, full_rows = aggregate_rows(epoch, rolled)
    conn.executemany(_UPSERT_AGGREGATE_PLAIN, plain_rows)
    conn.executemany(_UPSERT_AGGREGATE, full_rows)
    conn.executemany(_UPSERT_INSTRUMENT, instrument_rows(epoch, batch.instruments, now))
    for key, value in dict(counters, series_overflowed=overflowed).items():
        if value:
            conn.execute(_ADD_COUNTER, (key, str(int(value))))
    if cursor is not None:
        sources.commit(conn, cursor, now)
    return epoch


def _insert_operations(conn, epoch, seqs, plain, rows, recorded_plain, recorded_streamed=()):
    """Insert ingested ``plain`` rows (seq first), full ``rows`` and a recorder's plain and streamed
    rows (seq last)."""
    if not (plain or rows or recorded_plain or recorded_streamed):
        return
    # Binding a NULL costs as much as a value: rows without the optional columns leave them out.
    conn.executemany(_INSERT_PLAIN.format(epoch=int(epoch)), plain)
    conn.executemany(_INSERT_OPERATION, ((next(seqs), epoch) + row for row in rows))
    after = next(seqs)
    for statement, recorded in ((_INSERT_RECORDED, recorded_plain), (_INSERT_STREAMED, recorded_streamed)):
        first, after = after, after + len(recorded)
        conn.executemany(
            statement.format(epoch=int(epoch)),
            map(tuple.__add__, recorded, zip(range(first, after))),
        )
    # seq only orders rows of one ts: a counter kept in meta, bumped once per batch.
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_seq', ?)", (str(after),))


def cap_series(conn, epoch, groups, max_series):
    """``groups`` with (operation, model) pairs new past ``max_series`` folded into ``__overflow__``.

    Returns (groups, operations folded). Admitted pairs are remembered in the ``series`` table inside
    the caller's transaction; the caller's Aggregate objects are never changed (a retry repeats this).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS series (epoch INTEGER, operation TEXT, model TEXT,"
        " PRIMARY KEY (epoch, operation, model)) WITHOUT ROWID"
    )
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
        warnings.warn(
            f"devkit: metrics more than {max_series} (operation, model) series; new ones are counted"
            f" under {OVERFLOW!r}",
            RuntimeWarning,
        )
    return out, overflowed


def _admit(conn, epoch, pair, room):
    """ "old" for a pair the store has, "new" when admitted now, "" when there is no room."""
    row = conn.execute(
        "SELECT 1 FROM series WHERE epoch = ? AND operation = ? AND model = ?", (epoch,) + pair
    ).fetchone()
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
        sources.prune(conn, now - retention_days * 86400.0)
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

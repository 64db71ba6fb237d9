"""Read queries over aggregates and raw operations; every function filters on the reset epoch."""

import json
import math
import os
import sqlite3
import urllib.parse

from devkit.core.records import OPERATION_FIELDS, SUM_FIELDS
from devkit.core.rollup import STREAM_DISTS
from devkit.core.sketch import Sketch
from devkit.store.codec import merge_row, operation_dict, sketch_from_row
from devkit.store.schema import AGG_RETENTION_S, BUSY_TIMEOUT_MS, RES_TOTAL, SCHEMA_VERSION, table_columns

REQUIRED_TABLES = ("meta", "operations", "aggregates", "instruments", "health")

WINDOWS_S = (("1m", 60), ("5m", 300), ("15m", 900), ("1h", 3600))
_AGG_COLUMNS = (
    "operation, model, status, count, prompt_tokens, completion_tokens, cost, cache_hits, cache_misses,"
    " sketch, dur_sum, dur_min, dur_max, created_ts, last_ts, bucket"
)
_LLM_AGG = [("cached_prompt_tokens", "0"), ("reasoning_tokens", "0")] + [
    (f"{name}_{part}", default)
    for name in STREAM_DISTS
    for part, default in (("sketch", "NULL"), ("count", "0"), ("sum", "0"), ("min", "NULL"), ("max", "NULL"))
]


def agg_columns(conn):
    """The aggregate columns readers select; a store older than version 3 reads zeros for the LLM ones."""
    have = table_columns(conn, "aggregates")
    return _AGG_COLUMNS + "".join(
        f", {name}" if name in have else f", {default}" for name, default in _LLM_AGG
    )


_OP_DEFAULTS = {"cached_prompt_tokens": "0", "reasoning_tokens": "0", "ttft_ms": "NULL", "chunks": "NULL"}


def op_columns(conn):
    """The operation columns readers select (OPERATION_FIELDS order); older stores read defaults."""
    have = table_columns(conn, "operations")
    # A row stored without an id (the event came without one) shows ``#<seq>``: unique and stable in its store.
    columns = ["coalesce(id, '#' || seq)"] + [
        n if n in have or n not in _OP_DEFAULTS else _OP_DEFAULTS[n] for n in OPERATION_FIELDS[1:]
    ]
    return ", ".join(columns)


def stream_sketches(row):
    """{name: Sketch} of the streaming distributions in an aggregate row selected with agg_columns()."""
    out = {}
    for i, name in enumerate(STREAM_DISTS):
        blob, count, total, low, high = row[18 + 5 * i : 23 + 5 * i]
        out[name] = sketch_from_row(blob, count, total, low, high)
    return out


def _floor(ts, step):
    return int(math.floor(ts / step)) * step


def _ceil(ts, step):
    return int(math.ceil(ts / step)) * step


def spans(since_ts, now):
    """(resolution, first bucket, end bucket or None) ranges that together cover [since_ts, now].

    The finest resolution still kept covers the ragged start; whole hours come from hourly rows.
    """
    if since_ts is None:
        return [(RES_TOTAL, 0, None)]
    hour = _ceil(since_ts, 3600)
    if since_ts < now - AGG_RETENTION_S[60] + 3600:
        return [(3600, _floor(since_ts, 3600), None)]
    minute = _ceil(since_ts, 60)
    if since_ts < now - AGG_RETENTION_S[10] + 60:
        head = [(60, _floor(since_ts, 60), hour)]
    else:
        head = [(10, _floor(since_ts, 10), minute), (60, minute, hour)]
    return [s for s in head if s[1] < s[2]] + [(3600, hour, None)]


def aggregate_rows(conn, epoch, since_ts, now):
    """Every aggregate row covering ``since_ts`` .. now (all since the reset when None)."""
    for res, low, high in spans(since_ts, now):
        sql = f"SELECT {agg_columns(conn)} FROM aggregates WHERE epoch = ? AND res = ? AND bucket >= ?"
        params = [epoch, res, low]
        if high is not None:
            sql += " AND bucket < ?"
            params.append(high)
        yield from conn.execute(sql, params)


def breakdown(rows):
    """Fold aggregate rows into one dict per (operation, model, status), sorted by those keys."""
    groups = {}
    for row in rows:
        op, model, status, count, prompt, completion, cost, hits, misses = row[:9]
        key = (op, model, status)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {
                "operation": op,
                "model": model or None,
                "status": status,
                "count": 0,
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0.0,
                "cache_hits": 0,
                "cache_misses": 0,
                "sketch": Sketch(),
                "created_ts": row[13],
                "last_ts": row[14],
                "cached_prompt_tokens": 0,
                "reasoning_tokens": 0,
            }
            g.update((name, Sketch()) for name in STREAM_DISTS)
        g["count"] += count
        g["prompt_tokens"] += prompt
        g["completion_tokens"] += completion
        g["cost"] += cost
        g["cache_hits"] += hits
        g["cache_misses"] += misses
        merge_row(g["sketch"], row[9], count, row[10], row[11], row[12])
        g["cached_prompt_tokens"] += row[16]
        g["reasoning_tokens"] += row[17]
        for name, sketch in stream_sketches(row).items():
            g[name].merge(sketch)
        g["created_ts"] = min(g["created_ts"], row[13])
        g["last_ts"] = max(g["last_ts"], row[14])
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1], k[2]))]


def totals(groups):
    """Sum breakdown groups into the totals dict."""
    out = {
        "requests": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost": 0.0,
        "cache_hits": 0,
        "cache_misses": 0,
        "cached_prompt_tokens": 0,
        "reasoning_tokens": 0,
        "first_ts": None,
        "last_ts": None,
    }
    for g in groups:
        out["requests"] += g["count"]
        out["errors"] += g["count"] if g["status"] == "error" else 0
        for key in SUM_FIELDS:
            out[key] += g[key]
        out["first_ts"] = (
            g["created_ts"] if out["first_ts"] is None else min(out["first_ts"], g["created_ts"])
        )
        out["last_ts"] = g["last_ts"] if out["last_ts"] is None else max(out["last_ts"], g["last_ts"])
    out["total_tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    return out


def percentiles_ms(sketch):
    """p50/p95/p99 of a seconds sketch in milliseconds (None when empty)."""
    out = {}
    for name, q in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        value = sketch.quantile(q)
        out[name] = None if value is None else round(value * 1000.0, 3)
    return out


def history(conn, epoch, resolution_s, since_ts, until_ts=None):
    """Per-bucket sums and percentiles at ``resolution_s``; gaps filled with zeros up to ``until_ts``."""
    sql = f"SELECT {_AGG_COLUMNS} FROM aggregates WHERE epoch = ? AND res = ? AND bucket >= ? ORDER BY bucket"
    buckets = {}
    for row in conn.execute(sql, (epoch, resolution_s, _floor(since_ts, resolution_s))):
        b = buckets.setdefault(row[15], _empty_point(row[15]))
        b["requests"] += row[3]
        b["errors"] += row[3] if row[2] == "error" else 0
        b["prompt_tokens"] += row[4]
        b["completion_tokens"] += row[5]
        b["cost"] += row[6]
        merge_row(b["sketch"], row[9], row[3], row[10], row[11], row[12])
    if until_ts is not None:
        for ts in range(_floor(since_ts, resolution_s), _floor(until_ts, resolution_s) + 1, resolution_s):
            buckets.setdefault(ts, _empty_point(ts))
    points = [buckets[ts] for ts in sorted(buckets)]
    for point in points:
        point.update(percentiles_ms(point.pop("sketch")))
    return points


def _empty_point(ts):
    return {
        "ts": ts,
        "requests": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost": 0.0,
        "sketch": Sketch(),
    }


def windows(conn, epoch, now):
    """Requests, errors, rate and percentiles for the last 1 m, 5 m, 15 m and 1 h (10 s buckets)."""
    sql = f"SELECT {_AGG_COLUMNS} FROM aggregates WHERE epoch = ? AND res = 10 AND bucket >= ?"
    rows = conn.execute(sql, (epoch, _floor(now - 3600, 10))).fetchall()
    out = {}
    for name, span in WINDOWS_S:
        start = _floor(now - span, 10)
        sketch, requests, errors = Sketch(), 0, 0
        for row in rows:
            if row[15] >= start:
                requests += row[3]
                errors += row[3] if row[2] == "error" else 0
                merge_row(sketch, row[9], row[3], row[10], row[11], row[12])
        out[name] = {"requests": requests, "errors": errors, "rate_per_min": round(requests * 60.0 / span, 3)}
        out[name].update(percentiles_ms(sketch))
    return out


def recent(conn, epoch, limit, since_ts):
    """The newest ``limit`` operations, newest first."""
    sql = f"SELECT {op_columns(conn)} FROM operations WHERE epoch = ? AND ts >= ? ORDER BY ts DESC, seq DESC LIMIT ?"
    since = -1e300 if since_ts is None else since_ts
    return [operation_dict(row) for row in conn.execute(sql, (epoch, since, int(limit)))]


def iter_operations(conn, epoch, since_ts, page=2000):
    """Yield operation dicts oldest first, reading ``page`` rows at a time (flat memory)."""
    sql = (
        f"SELECT seq, ts, {op_columns(conn)} FROM operations WHERE epoch = ? AND (ts, seq) > (?, ?)"
        " ORDER BY ts, seq LIMIT ?"
    )
    ts, seq = (-1e300 if since_ts is None else since_ts), -1
    while True:
        rows = conn.execute(sql, (epoch, ts, seq, page)).fetchall()
        for row in rows:
            yield operation_dict(row[2:])
        if len(rows) < page:
            return
        seq, ts = rows[-1][0], rows[-1][1]


def instruments(conn, epoch):
    """Every stored user instrument series of the current epoch."""
    sql = (
        "SELECT name, kind, help, labels, value, sketch, count, dur_sum, dur_min, dur_max, created_ts"
        " FROM instruments WHERE epoch = ? ORDER BY name, labels"
    )
    out = []
    for name, kind, help_text, labels, value, blob, count, total, low, high, created in conn.execute(
        sql, (epoch,)
    ):
        sketch = None
        if kind == "histogram":
            sketch = sketch_from_row(blob, count or 0, total or 0.0, low, high)
        out.append(
            {
                "name": name,
                "kind": kind,
                "help": help_text,
                "labels": json.loads(labels),
                "value": value,
                "sketch": sketch,
                "created_ts": created,
            }
        )
    return out


def connect_readonly(path):
    """Open the existing store at ``path`` for reading only: never created, migrated or written.

    A reader that may write the file opens it ``mode=rw`` with ``query_only`` so that, being the
    last connection, it still removes the -wal/-shm files on close; one that may not opens it
    ``mode=ro``, immutable when there is no -wal, so it never creates files that would be its own.
    """
    writable = os.access(path, os.W_OK) and os.access(os.path.dirname(path) or ".", os.W_OK)
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + ("?mode=rw" if writable else "?mode=ro")
    if not writable and not os.path.exists(path + "-wal"):
        uri += "&immutable=1"
    conn = sqlite3.connect(
        uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000.0, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")
    return conn


# Version 1 differs only in an index and the spill bookkeeping, version 2 lacks the LLM columns (read as
# zeros): readers use them as they are, the next writer upgrades them.
OLDEST_READABLE_VERSION = 1


def problem(conn):
    """Why the open store cannot be used (schema version, a missing table, a bad epoch), or None."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        return f"schema version {version} is newer than this devkit ({SCHEMA_VERSION})"
    if version < OLDEST_READABLE_VERSION:
        return f"schema version {version}, expected {SCHEMA_VERSION} (not a devkit store?)"
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        return f"missing table {missing[0]}"
    row = conn.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    if row is not None and not str(row[0]).strip().lstrip("-").isdigit():
        return f"meta.epoch is {row[0]!r}, not a whole number"
    return None


def error_types(conn, epoch, since_ts, limit, newest):
    """The ``limit`` most frequent error type names among the ``newest`` kept operations: [(name or None, n)].

    The type is the ``error`` text before its first ``:`` (``TimeoutError: ...`` -> ``TimeoutError``).
    Only the newest rows are read, so the cost stays flat however big the journal grows.
    """
    sql = (
        "SELECT nullif(trim(substr(error, 1, instr(error || ':', ':') - 1)), '') AS kind, count(*) AS n FROM"
        " (SELECT status, error FROM operations WHERE epoch = ? AND ts >= ? ORDER BY ts DESC LIMIT ?)"
        " WHERE status = 'error' GROUP BY kind ORDER BY n DESC, kind LIMIT ?"
    )
    since = -1e300 if since_ts is None else since_ts
    return [(kind, n) for kind, n in conn.execute(sql, (epoch, since, int(newest), int(limit)))]

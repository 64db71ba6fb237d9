"""The one read model: everything ``status``, ``metrics``, every export and the server show, read at once.

``take(cfg, since, now)`` opens the store read-only (never creating it) and reads totals,
breakdown, windows, history, recent operations, instruments, the last health report and
store info in ONE read transaction at one clock reading. Renderers only format a Snapshot.
"""

import math
import os
import time

import devkit
from devkit.core.records import SUM_FIELDS
from devkit.core.rollup import STREAM_DISTS
from devkit.util import parse_duration

# The one percentile list: status, metrics, every export and the Prometheus summary use it.
PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))
WINDOW_NAMES = ("1m", "5m", "15m", "1h")
HOUR_S = 3600.0
DAY_S = 86400.0
# Minute points up to this span, hourly beyond: each busy point costs its own percentiles.
MINUTES_UP_TO_S = 6 * HOUR_S
# History never holds more points than this, whatever --since says (400 days of hours fit).
HISTORY_MAX_POINTS = 10000
# The status screen and reports list at most this many error types, found among this many newest
# operations (a flat cost on a million-row journal); other errors are summed as "other".
ERROR_TYPES_MAX = 10
ERROR_TYPES_SCAN = 20000
# A recent_limit from the environment is bounded here before it reaches SQLite.
RECENT_MAX = 100000
RECENT_FIELDS = (
    "id",
    "ts",
    "operation",
    "model",
    "duration_ms",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "cache_hit",
    "cost",
    "error",
    "detail",
)
# Streaming fields of every per-operation and per-model row: (key, breakdown sketch, quantile, scale).
STREAM_FIELDS = (
    ("ttft_p50_ms", "ttft", 0.5, 1000.0),
    ("ttft_p95_ms", "ttft", 0.95, 1000.0),
    ("time_per_chunk_p50_ms", "tpot", 0.5, 1000.0),
    ("tokens_per_s_p50", "tps", 0.5, 1.0),
    ("tokens_per_s_p95", "tps", 0.95, 1.0),
)
_HISTORY_POINT = {
    "requests": 0,
    "errors": 0,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost": 0.0,
    "p50_ms": None,
    "p95_ms": None,
    "p99_ms": None,
}


def empty_totals():
    """The totals dict of an empty store."""
    totals = {"requests": 0, "errors": 0, "total_tokens": 0, "first_ts": None, "last_ts": None}
    totals.update((field, 0) for field in SUM_FIELDS)
    totals["cost"] = 0.0
    return totals


def percentiles(sketch, suffix="_ms", scale=1000.0, digits=3):
    """p50/p90/p95/p99 of ``sketch`` (seconds -> ms by default; ``scale=None`` keeps its unit); None when empty."""
    empty = sketch is None or not sketch.count
    out = {}
    for name, q in PERCENTILES:
        value = None if empty else sketch.quantile(q)
        if value is not None and scale is not None:
            value = round(value * scale, digits)
        out[name + suffix] = value
    return out


def merged_latency(breakdown):
    """One Sketch of every operation's duration (seconds) across all breakdown rows."""
    from devkit.core.sketch import Sketch

    total = Sketch()
    for row in breakdown:
        if row.get("sketch") is not None:
            total.merge(row["sketch"])
    return total


class Snapshot:
    """Everything readers show, read once; raw operations are streamed on demand by ``operations()``.

    ``breakdown`` rows and ``instruments`` are the Store API's dicts (with their Sketches).
    """

    version = devkit.__version__

    def __init__(
        self,
        generated_at,
        since_ts=None,
        totals=None,
        breakdown=(),
        instruments=(),
        windows=None,
        history=(),
        history_resolution_s=60,
        recent=(),
        project="",
        operations=None,
        consistent=True,
        since="all",
        models=(),
        store=None,
        reset_ts=None,
        error_types=(),
        health=None,
    ):
        self.generated_at = generated_at
        self.since = since
        self.since_ts = since_ts
        self.totals = dict(totals or empty_totals())
        self.breakdown = list(breakdown)
        self.instruments = list(instruments)
        self.windows = dict(windows or empty_windows())
        self.history = list(history)
        self.history_resolution_s = history_resolution_s
        self.recent = list(recent)
        self.project = project
        self.consistent = consistent
        self.models = list(models)
        self.store = dict(store or {})
        self.reset_ts = reset_ts
        self.error_types = [tuple(pair) for pair in error_types]
        self.health = health
        self._operations = operations
        self.latency = merged_latency(self.breakdown)

    def operations(self):
        """Yield operation dicts oldest first, within [since_ts, generated_at]."""
        if self._operations is None:
            return
        for op in self._operations(self.since_ts):
            if op.get("ts") is None or op["ts"] <= self.generated_at:
                yield op

    def summary(self):
        """The totals plus cost rounded, error rate and cache hit ratio."""
        sums = dict(self.totals)
        requests, lookups = sums["requests"], sums["cache_hits"] + sums["cache_misses"]
        sums["cost"] = round(sums["cost"], 6)
        sums["error_rate"] = round(sums["errors"] / requests, 6) if requests else 0.0
        sums["cache_hit_ratio"] = round(sums["cache_hits"] / lookups, 6) if lookups else None
        return sums

    def rate_per_min(self):
        """Requests per minute over the covered span (at least one minute)."""
        start = self.since_ts if self.since_ts is not None else self.totals["first_ts"]
        minutes = max((self.generated_at - start) / 60.0, 1.0) if start is not None else 1.0
        return round(self.totals["requests"] / minutes, 3)

    def operation_rows(self):
        """Per (operation, model): count, errors, tokens, cost and percentiles (statuses merged)."""
        return _grouped(self.breakdown, ("operation", "model"), percentiles_too=True)

    def token_rows(self):
        """Tokens and cost ``by_model`` and ``by_operation``."""
        return {f"by_{field}": _grouped(self.breakdown, (field,)) for field in ("model", "operation")}

    def model_rows(self):
        """Per model: count, errors, tokens, cost and p50/p90/p95/p99 (operations and statuses merged)."""
        return _grouped(self.breakdown, ("model",), percentiles_too=True)

    def error_type_rows(self):
        """Errors per type name, most frequent first; errors older than the scan or not kept are "other"."""
        rows = [{"error": name, "count": n} for name, n in self.error_types]
        unnamed = self.totals["errors"] - sum(n for _, n in self.error_types)
        if unnamed > 0:
            rows.append({"error": None, "count": unnamed, "other": True})
        return rows

    def health_summary(self):
        """When ``health`` last ran (ISO time and Unix ts), its status, verdict and check counts; None if never."""
        if not isinstance(self.health, dict):
            return None
        counts = {}
        for entries in (self.health.get("checks") or {}).values():
            for entry in entries if isinstance(entries, list) else [entries]:
                status = entry.get("status") if isinstance(entry, dict) else None
                counts[status or "unknown"] = counts.get(status or "unknown", 0) + 1
        time_text = self.health.get("time")
        return {
            "status": self.health.get("status"),
            "time": time_text,
            "ts": _iso_ts(time_text),
            "output": self.health.get("output"),
            "checks": counts,
        }

    def to_dict(self):
        """The JSON document of ``devkit status --json`` (and the server's ``/api/metrics``)."""
        return {
            "since": self.since,
            "since_ts": self.since_ts,
            "now": self.generated_at,
            "reset_ts": self.reset_ts,
            "totals": self.summary(),
            "latency_ms": percentiles(self.latency, suffix=""),
            "rate_per_min": self.rate_per_min(),
            "windows": self.windows,
            "history": self.history,
            "history_resolution_s": self.history_resolution_s,
            "operations": self.operation_rows(),
            "recent": [{k: op.get(k) for k in RECENT_FIELDS} for op in self.recent],
            "models": self.models,
            "store": self.store,
            "by_model": self.model_rows(),
            "error_types": self.error_type_rows(),
            "health": self.health_summary(),
        }


def _iso_ts(text):
    """The Unix time of an ISO 8601 UTC text (``2026-01-02T03:04:05.678Z``), or None when unreadable."""
    import datetime

    try:
        stamp = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def empty_windows():
    """The windows of an empty store: zeros and no percentiles."""
    return {name: dict(_HISTORY_POINT, rate_per_min=0.0) for name in WINDOW_NAMES}


def _grouped(breakdown, keys, percentiles_too=False):
    from devkit.core.sketch import Sketch

    rows = {}
    for g in breakdown:
        ident = tuple(g[k] or "" for k in keys)
        row = rows.get(ident)
        if row is None:
            row = rows[ident] = {k: g[k] for k in keys}
            row.update(requests=0, errors=0, total_tokens=0, _sketch=Sketch())
            row.update(("_" + name, Sketch()) for name in STREAM_DISTS)
            row.update((field, 0) for field in SUM_FIELDS)
            row["cost"] = 0.0
        row["requests"] += g["count"]
        row["errors"] += g["count"] if g["status"] == "error" else 0
        for field in SUM_FIELDS:
            row[field] += g.get(field) or 0
        row["total_tokens"] = row["prompt_tokens"] + row["completion_tokens"]
        row["_sketch"].merge(g["sketch"])
        for name in STREAM_DISTS:
            if g.get(name) is not None:
                row["_" + name].merge(g[name])
    out = [rows[k] for k in sorted(rows)]
    for row in out:
        sketch = row.pop("_sketch")
        row["cost"] = round(row["cost"], 6)
        row.update(stream_summary({name: row.pop("_" + name) for name in STREAM_DISTS}))
        if percentiles_too:
            row["count"] = row.pop("requests")
            row.update(percentiles(sketch))
    return out


def stream_summary(sketches):
    """TTFT p50/p95 (ms), time per chunk p50 (ms) and output tokens/s p50/p95 of ``sketches`` (None when empty)."""
    out = {}
    for key, name, q, scale in STREAM_FIELDS:
        sketch = sketches.get(name)
        value = sketch.quantile(q) if sketch is not None and sketch.count else None
        out[key] = None if value is None else round(value * scale, 3)
    return out


def history_range(since_ts, first_ts, now):
    """(resolution_s, start) of the history: from ``since`` (or 24 h ago) but never before the first data.

    10 s up to an hour, 60 s up to six hours, else hourly; at most HISTORY_MAX_POINTS points.
    """
    start = now - DAY_S if since_ts is None else since_ts
    start = max(start, min(first_ts, now)) if first_ts is not None else now
    span = now - start
    resolution = 10 if span <= HOUR_S else 60 if span <= MINUTES_UP_TO_S else 3600
    return resolution, max(start, now - resolution * (HISTORY_MAX_POINTS - 1))


def fill_gaps(points, resolution_s, start, now):
    """The busy points the store returned plus zero points for every empty interval from ``start`` to ``now``."""
    by_ts = {p["ts"]: p for p in points}
    first = int(math.floor(start / resolution_s)) * resolution_s
    last = int(math.floor(now / resolution_s)) * resolution_s
    for ts in range(first, last + 1, resolution_s):
        by_ts.setdefault(ts, dict(_HISTORY_POINT, ts=ts))
    return [by_ts[ts] for ts in sorted(by_ts) if ts >= first]


def take(cfg, since="all", now=None, recent_limit=None):
    """Read the store of ``cfg`` once (read-only, never creating it); an empty Snapshot when there is none.

    ``since`` is a span (``1h``, ``7d``) or ``all``; ``now`` the caller's clock reading.
    """
    from devkit.store import read_store, require_sqlite, store_path

    require_sqlite()
    now = float(time.time() if now is None else now)
    since_ts = since_start(since, now)
    limit = min(int(cfg.get("metrics", "recent_limit") if recent_limit is None else recent_limit), RECENT_MAX)
    path = store_path(cfg)
    base = {"generated_at": now, "since": since, "since_ts": since_ts, "project": cfg.project_name}
    if not os.path.exists(path):
        info = {"path": path, "size_bytes": 0, "operations": 0, "exists": False}
        return Snapshot(models=model_availability(cfg, None), store=info, **base)
    with read_store(cfg, clock=lambda: now) as store:
        parts = _read(store, since_ts, now, limit)
    parts["models"] = model_availability(cfg, parts["health"])
    return Snapshot(operations=lambda start: _stream_operations(cfg, now, start), **base, **parts)


def since_start(since, now):
    """The start timestamp of span ``since`` (``1h``, ``7d``) before ``now``, or None for ``all``.

    Never before the Unix epoch, whatever the span: nothing older is stored, and it stays formattable.
    """
    if since is None or str(since).strip().lower() == "all":
        return None
    return max(now - parse_duration(since, "since"), 0.0)


def _read(store, since_ts, now, limit):
    with store.read_transaction():
        parts = {
            "totals": store.totals(since_ts),
            "breakdown": store.breakdown(since_ts),
            "instruments": store.instruments(),
            "windows": store.windows(now),
            "recent": store.recent(limit, since_ts),
            "health": store.last_health(),
            "store": store.info(),
            "reset_ts": store.reset_ts,
            "error_types": store.error_types(since_ts, ERROR_TYPES_MAX, ERROR_TYPES_SCAN),
        }
        first_ts = parts["totals"]["first_ts"]
        resolution, start = history_range(since_ts, first_ts, now)
        busy = store.history(resolution, start)
    parts["history_resolution_s"] = resolution
    parts["history"] = [] if first_ts is None else fill_gaps(busy, resolution, start, now)
    return parts


def _stream_operations(cfg, now, since_ts):
    from devkit.store import read_store

    with read_store(cfg, clock=lambda: now) as store:
        yield from store.iter_operations(since_ts)


_STATUS_RANK = {"pass": 0, "ok": 0, "warn": 1, "fail": 2, "error": 2}


def model_availability(cfg, health):
    """cfg.models merged with the last saved health report: name, provider, status (or "unknown")."""
    checked = (health or {}).get("time") or (health or {}).get("ts")
    out = []
    for model in cfg.models:
        status, output = _model_check(health, model["name"])
        out.append(
            {
                "name": model["name"],
                "provider": model.get("provider"),
                "status": status or "unknown",
                "output": output,
                "checked": checked if status else None,
            }
        )
    return out


def _model_check(health, name):
    """The worst status (and its output) among the report's checks that name model ``name``."""
    found, output = None, None
    for key, entries in ((health or {}).get("checks") or {}).items():
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, dict) or not _names_model(key, entry, name):
                continue
            status = entry.get("status")
            if found is None or _STATUS_RANK.get(status, 1) > _STATUS_RANK.get(found, 1):
                found, output = status, entry.get("output")
    return found, output


def _names_model(key, entry, name):
    """True when a check key (``model.NAME:measurement``, ``NAME``, ...) or its componentId is model ``name``."""
    if entry.get("componentId") == name:
        return True
    for prefix in ("model.", "model_", "model:", ""):
        if key == prefix + name or key.startswith(prefix + name + ":"):
            return True
    return False

"""One consistent read of the store that every export format renders from."""

import contextlib
import math
import time

import devkit
from devkit.core.sketch import Sketch

HOUR_S = 3600.0
DAY_S = 86400.0
DEFAULT_RECENT = 100


class Snapshot:
    """Everything an export shows, read once; operations are streamed on demand.

    ``breakdown`` rows and ``instruments`` are the dicts of the Store API (with
    their Sketches); ``operations()`` streams the journal oldest first without
    holding it in memory, bounded by ``since_ts`` and ``generated_at``.
    """

    def __init__(self, generated_at, since_ts=None, totals=None, breakdown=(), instruments=(),
                 windows=None, history=(), history_resolution_s=60, recent=(), project="",
                 operations=None, consistent=True):  # fmt: skip
        self.version = devkit.__version__
        self.generated_at = generated_at
        self.since_ts = since_ts
        self.totals = dict(totals or empty_totals())
        self.breakdown = list(breakdown)
        self.instruments = list(instruments)
        self.windows = dict(windows or {})
        self.history = list(history)
        self.history_resolution_s = history_resolution_s
        self.recent = list(recent)
        self.project = project
        self.consistent = consistent
        self._operations = operations
        self.latency = merged_latency(self.breakdown)

    def operations(self):
        """Yield operation dicts oldest first, within [since_ts, generated_at]."""
        if self._operations is None:
            return
        limit = self.generated_at
        for op in self._operations(self.since_ts):
            if op.get("ts") is None or op["ts"] <= limit:
                yield op


_EMPTY_POINT = {"requests": 0, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0,
                "p50_ms": None, "p95_ms": None, "p99_ms": None}  # fmt: skip


def empty_totals():
    """The totals dict of an empty store."""
    return {
        "requests": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
        "cost": 0.0,
        "cache_hits": 0,
        "cache_misses": 0,
        "first_ts": None,
        "last_ts": None,
    }


def merged_latency(breakdown):
    """One Sketch of every operation's duration (seconds) across all breakdown rows."""
    total = Sketch()
    for row in breakdown:
        if row.get("sketch") is not None:
            total.merge(row["sketch"])
    return total


def history_range(since_ts, now):
    """(resolution_s, start) of the time series: 10 s up to 1 h, 60 s up to 24 h, else hourly.

    With no ``since`` the series covers the last 24 hours.
    """
    start = now - DAY_S if since_ts is None else since_ts
    span = now - start
    return (10 if span <= HOUR_S else 60 if span <= DAY_S else 3600), start


def fill_gaps(points, resolution_s, start, now):
    """Add zero points for empty intervals between ``start`` and ``now`` (the store returns only busy ones)."""
    by_ts = {p["ts"]: p for p in points}
    first = int(math.floor(start / resolution_s)) * resolution_s
    last = int(math.floor(now / resolution_s)) * resolution_s
    for ts in range(first, last + 1, resolution_s):
        if ts not in by_ts:
            by_ts[ts] = dict(_EMPTY_POINT, ts=ts)
    return [by_ts[ts] for ts in sorted(by_ts)]


def take_snapshot(store, cfg=None, since_ts=None, now=None):
    """Read totals, breakdown, instruments, windows, history and recent ops in one read transaction."""
    now = float(time.time() if now is None else now)
    resolution, history_start = history_range(since_ts, now)
    recent_limit = _recent_limit(cfg)
    opener = getattr(store, "read_transaction", None)
    context = opener() if callable(opener) else contextlib.nullcontext()
    with context:
        parts = {
            "totals": store.totals(since_ts),
            "breakdown": store.breakdown(since_ts),
            "instruments": store.instruments(),
            "windows": store.windows(now),
            "history": fill_gaps(store.history(resolution, history_start), resolution, history_start, now),
            "recent": store.recent(recent_limit, since_ts),
        }
    return Snapshot(
        generated_at=now,
        since_ts=since_ts,
        history_resolution_s=resolution,
        project=_project_name(cfg),
        operations=store.iter_operations,
        consistent=callable(opener),
        **parts,
    )


def _recent_limit(cfg):
    if cfg is None:
        return DEFAULT_RECENT
    try:
        return int(cfg.get("metrics", "recent_limit") or DEFAULT_RECENT)
    except (KeyError, TypeError, ValueError, AttributeError):
        return DEFAULT_RECENT


def _project_name(cfg):
    return getattr(cfg, "project_name", "") if cfg is not None else ""

"""Shapes shared by the JSON, CSV and Markdown exports: per-series rows, percentiles, timestamps."""

import json

from devkit.snapshot import PERCENTILES, STREAM_FIELDS, percentiles, stream_summary
from devkit.util import utc_iso

SERIES_FIELDS = (
    "operation",
    "model",
    "status",
    "count",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "cache_hits",
    "cache_misses",
    "created_ts",
    "cached_prompt_tokens",
    "reasoning_tokens",
)
STREAM_KEYS = tuple(key for key, _name, _q, _scale in STREAM_FIELDS)


def iso(ts):
    """A Unix timestamp as ISO 8601 UTC (``2024-05-01T12:00:00.250000Z``), or None."""
    return None if ts is None else utc_iso(ts, 6)


def latency_ms(sketch):
    """count, mean, min, max and p50/p90/p95/p99 of a seconds Sketch, in milliseconds (None when empty)."""
    empty = sketch is None or not sketch.count
    out = {"count": 0 if empty else sketch.count}
    out.update(percentiles(sketch))
    out["mean_ms"] = None if empty else _ms(sketch.mean)
    out["min_ms"] = None if empty else _ms(sketch.min)
    out["max_ms"] = None if empty else _ms(sketch.max)
    return out


def _ms(seconds):
    return round(seconds * 1000.0, 3)


def series_rows(snapshot):
    """One flat dict per (operation, model, status) with its sums and latency percentiles, sorted."""
    rows = []
    for row in snapshot.breakdown:
        flat = {name: row.get(name) for name in SERIES_FIELDS}
        stats = latency_ms(row.get("sketch"))
        flat.update((k, v) for k, v in stats.items() if k != "count")
        flat.update(stream_summary(row))
        rows.append(flat)
    rows.sort(key=lambda r: (str(r["operation"]), str(r["model"] or ""), str(r["status"])))
    return rows


def instrument_rows(snapshot):
    """User instruments as flat dicts; histograms carry count, sum, min, max and percentiles, not a Sketch."""
    rows = []
    for inst in snapshot.instruments:
        flat = {k: inst.get(k) for k in ("name", "kind", "help", "labels", "value", "created_ts")}
        sketch = inst.get("sketch")
        if sketch is not None:
            flat.update(distribution(sketch))
        rows.append(flat)
    return rows


def distribution(sketch):
    """count, sum, min, max and p50/p90/p95/p99 of a Sketch in its own unit (None when empty)."""
    empty = not sketch.count
    out = {"count": sketch.count, "sum": sketch.sum}
    out["min"] = None if empty else sketch.min
    out["max"] = None if empty else sketch.max
    out.update(percentiles(sketch, suffix="", scale=None))
    return out


def labels_json(labels):
    """Labels as compact JSON with sorted keys ("" when there are none)."""
    return json.dumps(labels, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if labels else ""


def history_runs(snapshot):
    """History points with ``end_ts`` and ``intervals``; each run of empty intervals is one point.

    Ten events in a day of minutes stay a handful of rows: a quiet stretch is summarised, not listed.
    """
    step = snapshot.history_resolution_s
    runs = []
    for point in snapshot.history:
        idle = not point.get("requests")
        last = runs[-1] if runs else None
        if idle and last is not None and last["_idle"] and last["end_ts"] == point["ts"]:
            last["end_ts"] += step
            last["intervals"] += 1
            continue
        runs.append(dict(point, end_ts=point["ts"] + step, intervals=1, _idle=idle))
    for run in runs:
        del run["_idle"]
    return runs

"""Read-only views over the store shaped for the CLI and the dashboard (plain dicts, no output)."""

import os

from devkit.core.sketch import Sketch
from devkit.store import open_store, store_path
from devkit.store.reader import WINDOWS_S, merged_sketch, percentiles_ms, totals

RECENT_FIELDS = ("id", "ts", "operation", "model", "duration_ms", "status", "prompt_tokens", "completion_tokens",
                 "cache_hit", "cost", "error", "detail")  # fmt: skip
_EMPTY_TOTALS = {"requests": 0, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                 "cost": 0.0, "cache_hits": 0, "cache_misses": 0, "first_ts": None, "last_ts": None}  # fmt: skip
_STATUS_RANK = {"pass": 0, "ok": 0, "warn": 1, "fail": 2, "error": 2}


def open_existing(cfg):
    """The store of ``cfg`` when its file exists, else None (reading never creates a store)."""
    return open_store(cfg) if os.path.exists(store_path(cfg)) else None


def status_data(store, cfg, since, since_ts, now, recent_limit=10):
    """Everything ``devkit status`` shows, as one JSON-ready dict (zeros when ``store`` is None)."""
    if store is None:
        return _status_dict(since, since_ts, now, dict(_EMPTY_TOTALS), {}, [], None, _no_store(cfg), cfg)
    with store.read_transaction():
        groups = store.breakdown(since_ts)
        data = _status_dict(since, since_ts, now, totals(groups), percentiles_ms(merged_sketch(groups)),
                            store.recent(recent_limit, since_ts), store.last_health(), store.info(), cfg)  # fmt: skip
        data["windows"] = store.windows(now)
        data["history"] = store.history(60, now - 3600, now)
        data["reset_ts"] = store.reset_ts
    return data


def _status_dict(since, since_ts, now, sums, latency, recent, health, info, cfg):
    requests = sums["requests"]
    cache_total = sums["cache_hits"] + sums["cache_misses"]
    sums["cost"] = round(sums["cost"], 6)
    sums["error_rate"] = round(sums["errors"] / requests, 6) if requests else 0.0
    sums["cache_hit_ratio"] = round(sums["cache_hits"] / cache_total, 6) if cache_total else None
    start = since_ts if since_ts is not None else sums["first_ts"]
    minutes = max((now - start) / 60.0, 1.0) if start is not None else 1.0
    return {
        "since": since,
        "since_ts": since_ts,
        "now": now,
        "reset_ts": None,
        "totals": sums,
        "latency_ms": {
            "p50": latency.get("p50_ms"),
            "p95": latency.get("p95_ms"),
            "p99": latency.get("p99_ms"),
        },
        "rate_per_min": round(requests / minutes, 3),
        "windows": {name: {"requests": 0, "errors": 0, "rate_per_min": 0.0, "p50_ms": None, "p95_ms": None,
                           "p99_ms": None} for name, _span in WINDOWS_S},  # fmt: skip
        "history": [],
        "recent": [{k: op.get(k) for k in RECENT_FIELDS} for op in recent],
        "models": model_availability(cfg, health),
        "store": info,
    }


def _no_store(cfg):
    return {"path": store_path(cfg), "size_bytes": 0, "operations": 0, "exists": False}


def model_availability(cfg, health):
    """cfg.models merged with the last saved health report: name, provider, status (or "unknown")."""
    checked = (health or {}).get("time") or (health or {}).get("ts")
    out = []
    for model in cfg.models:
        status, output = _model_check(health, model["name"])
        out.append({"name": model["name"], "provider": model.get("provider"), "status": status or "unknown",
                    "output": output, "checked": checked if status else None})  # fmt: skip
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


def operation_rows(groups):
    """Per (operation, model): count, errors, p50/p95/p99 ms, tokens and cost (statuses merged)."""
    rows = {}
    for g in groups:
        row = rows.setdefault((g["operation"], g["model"] or ""), {
            "operation": g["operation"], "model": g["model"], "count": 0, "errors": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "total_tokens": 0, "cost": 0.0, "_sketch": Sketch()})  # fmt: skip
        row["count"] += g["count"]
        row["errors"] += g["count"] if g["status"] == "error" else 0
        row["prompt_tokens"] += g["prompt_tokens"]
        row["completion_tokens"] += g["completion_tokens"]
        row["total_tokens"] += g["prompt_tokens"] + g["completion_tokens"]
        row["cost"] += g["cost"]
        row["_sketch"].merge(g["sketch"])
    out = [rows[k] for k in sorted(rows)]
    for row in out:
        row.update(percentiles_ms(row.pop("_sketch")))
        row["cost"] = round(row["cost"], 6)
    return out


def token_breakdown(groups):
    """Tokens and cost by model and by operation, plus totals."""
    by = {"model": {}, "operation": {}}
    for g in groups:
        for field, table in by.items():
            name = g[field]
            row = table.setdefault(name or "", {field: name, "requests": 0, "prompt_tokens": 0,
                                                "completion_tokens": 0, "total_tokens": 0, "cost": 0.0})  # fmt: skip
            row["requests"] += g["count"]
            row["prompt_tokens"] += g["prompt_tokens"]
            row["completion_tokens"] += g["completion_tokens"]
            row["total_tokens"] += g["prompt_tokens"] + g["completion_tokens"]
            row["cost"] += g["cost"]
    out = {f"by_{field}": [table[k] for k in sorted(table)] for field, table in by.items()}
    for row in out["by_model"] + out["by_operation"]:
        row["cost"] = round(row["cost"], 6)
    return out

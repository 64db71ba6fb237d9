"""The maintenance report: project, models and their health, metrics, tokens and cost, experiments, storage."""

import os

from devkit.export.markdown import cell, table
from devkit.maintenance import treewalk
from devkit.util import utc_iso


def metrics_document(cfg, now):
    """The metrics read model as the ``devkit status --json`` document (all time); the one place it is read."""
    from devkit import snapshot

    return snapshot.take(cfg, since="all", now=now).to_dict()


def build_report(cfg, now, experiments):
    """The report as a dict; ``experiments`` is ``(rows, problems)`` of the experiment records."""
    doc = metrics_document(cfg, now)
    rows, problems = experiments
    totals = doc["totals"]
    return {
        "project": cfg.project_name,
        "generated_at": utc_iso(now),
        "models": [_model(cfg, m) for m in doc["models"]],
        "metrics": {
            "requests": totals["requests"],
            "errors": totals["errors"],
            "error_rate": totals["error_rate"],
            "latency_ms": doc["latency_ms"],
        },
        "tokens": {
            key: totals[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens", "cost")
        },
        "experiments": {"count": len(rows), "unreadable": len(problems)},
        "storage": storage_use(cfg),
        "backup": last_backup(cfg),
    }


def last_backup(cfg):
    """The newest backup's name, time, size and whether its last verify passed (None: never verified)."""
    from devkit.maintenance.backup import list_backups

    backups = list_backups(cfg.resolve_path(cfg.get("backup", "dir")))
    if not backups:
        return None
    latest = backups[0]
    return {
        "name": latest["name"],
        "created": utc_iso(latest["created_ts"]),
        "size_bytes": latest["size_bytes"],
        "verified": latest["verified"],
    }


def _model(cfg, availability):
    urls = {m["name"]: m["url"] for m in cfg.models}
    return {
        "name": availability["name"],
        "provider": availability["provider"],
        "url": cfg.scrub(urls.get(availability["name"], "")),
        "status": availability["status"],
        "output": cfg.scrub(availability["output"] or ""),
    }


def storage_use(cfg):
    """Bytes and files under each data dir, the state dir, the backup dir and the log archive."""
    places = [("data", p) for p in cfg.get("project", "data_dirs")]
    places += [
        ("state", cfg.get("project", "state_dir")),
        ("backups", cfg.get("backup", "dir")),
        ("log archive", cfg.get("cleanup", "archive_dir")),
    ]
    out = []
    for role, path in places:
        full = cfg.resolve_path(path)
        size, files = treewalk.usage(full)
        out.append(
            {"role": role, "path": full, "exists": os.path.lexists(full), "size_bytes": size, "files": files}
        )
    return out


def render_report(report):
    """The report dict as Markdown."""
    parts = [
        f"# {cell(report['project'])}: maintenance report",
        f"Generated {report['generated_at']}.",
        "## Models",
        _models_table(report["models"]),
        "## Metrics",
        _metrics_table(report["metrics"]),
        "## Tokens and cost",
        _tokens_table(report["tokens"]),
        "## Experiments",
        f"{report['experiments']['count']} records ({report['experiments']['unreadable']} unreadable).",
        "## Storage",
        _storage_table(report["storage"]),
        "## Last backup",
        _backup_text(report["backup"]),
    ]
    return "\n\n".join(parts) + "\n"


def _metrics_table(metrics):
    lat = metrics["latency_ms"]
    row = [_n(metrics["requests"]), _n(metrics["errors"]), f"{metrics['error_rate'] * 100:.2f}%"]
    row += [_n(lat["p50"]), _n(lat["p95"]), _n(lat["p99"])]
    return table(("requests", "errors", "error rate", "p50 ms", "p95 ms", "p99 ms"), [row], "rrrrrr")


def _tokens_table(tokens):
    row = [_n(tokens[k]) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    return table(("prompt", "completion", "total", "cost (USD)"), [row + [f"{tokens['cost']:.4f}"]], "rrrr")


def _storage_table(storage):
    rows = [[cell(s["role"]), cell(s["path"]), _n(s["size_bytes"]), _n(s["files"])] for s in storage]
    return table(("role", "path", "size (bytes)", "files"), rows, "llrr")


def _backup_text(backup):
    if backup is None:
        return "No backup yet."
    verdict = {True: "verified", False: "FAILED its last verify", None: "not verified yet"}[
        backup["verified"]
    ]
    return f"{cell(backup['name'])}, made {backup['created']}, {_n(backup['size_bytes'])} bytes: {verdict}."


def _models_table(models):
    if not models:
        return "(no models configured)"
    rows = [
        [cell(m["name"]), cell(m["provider"]), cell(m["url"]), cell(m["status"]), cell(m["output"])]
        for m in models
    ]
    return table(("model", "provider", "url", "health", "detail"), rows, "lllll")


def _n(value):
    if value is None:
        return "-"
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"

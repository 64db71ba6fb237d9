"""The maintenance report: project, models and their health, metrics, tokens and cost, experiments, storage."""

import os

from devkit.export.markdown import cell, table
from devkit.maintenance import treewalk
from devkit.util import utc_iso


def metrics_document(cfg, now):
    """The metrics read model as the ``devkit status --json`` document (all time); the one place it is read."""
    from devkit.store.views import open_existing, status_data

    store = open_existing(cfg)
    try:
        return status_data(store, cfg, "all", None, now)
    finally:
        if store is not None:
            store.close()


def build_report(cfg, now, experiments):
    """The report as a dict; ``experiments`` is ``(rows, problems)`` of the experiment records."""
    doc = metrics_document(cfg, now)
    rows, problems = experiments
    totals = doc["totals"]
    return {
        "project": cfg.project_name,
        "generated_at": utc_iso(now),
        "models": [_model(cfg, m) for m in doc["models"]],
        "metrics": {"requests": totals["requests"], "errors": totals["errors"],
                    "error_rate": totals["error_rate"], "latency_ms": doc["latency_ms"]},  # fmt: skip
        "tokens": {
            key: totals[key] for key in ("prompt_tokens", "completion_tokens", "total_tokens", "cost")
        },
        "experiments": {"count": len(rows), "unreadable": len(problems)},
        "storage": storage_use(cfg),
    }


def _model(cfg, availability):
    urls = {m["name"]: m["url"] for m in cfg.models}
    return {"name": availability["name"], "provider": availability["provider"],
            "url": cfg.scrub(urls.get(availability["name"], "")), "status": availability["status"],
            "output": cfg.scrub(availability["output"] or "")}  # fmt: skip


def storage_use(cfg):
    """Bytes and files under each data dir, the state dir, the backup dir and the log archive."""
    places = [("data", p) for p in cfg.get("project", "data_dirs")]
    places += [("state", cfg.get("project", "state_dir")), ("backups", cfg.get("backup", "dir")),
               ("log archive", cfg.get("cleanup", "archive_dir"))]  # fmt: skip
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
    metrics, tokens = report["metrics"], report["tokens"]
    lat = metrics["latency_ms"]
    parts = [
        f"# {cell(report['project'])}: maintenance report",
        f"Generated {report['generated_at']}.",
        "## Models",
        _models_table(report["models"]),
        "## Metrics",
        table(("requests", "errors", "error rate", "p50 ms", "p95 ms", "p99 ms"),
              [[_n(metrics["requests"]), _n(metrics["errors"]), f"{metrics['error_rate'] * 100:.2f}%",
                _n(lat["p50"]), _n(lat["p95"]), _n(lat["p99"])]], "rrrrrr"),  # fmt: skip
        "## Tokens and cost",
        table(("prompt", "completion", "total", "cost (USD)"),
              [[_n(tokens["prompt_tokens"]), _n(tokens["completion_tokens"]), _n(tokens["total_tokens"]),
                f"{tokens['cost']:.4f}"]], "rrrr"),  # fmt: skip
        "## Experiments",
        f"{report['experiments']['count']} records ({report['experiments']['unreadable']} unreadable).",
        "## Storage",
        table(("role", "path", "size (bytes)", "files"),
              [[cell(s["role"]), cell(s["path"]), _n(s["size_bytes"]), _n(s["files"])]
               for s in report["storage"]], "llrr"),  # fmt: skip
    ]
    return "\n\n".join(parts) + "\n"


def _models_table(models):
    if not models:
        return "(no models configured)"
    rows = [[cell(m["name"]), cell(m["provider"]), cell(m["url"]), cell(m["status"]), cell(m["output"])]
            for m in models]  # fmt: skip
    return table(("model", "provider", "url", "health", "detail"), rows, "lllll")


def _n(value):
    if value is None:
        return "-"
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"

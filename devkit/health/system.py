"""Checks of devkit itself: the process, the configuration, the SQLite store and the 24 h budgets."""

import os
import platform

from devkit import units
from devkit.health.core import Check, Outcome, perf_number

DAY_S = 86400


def process_check():
    """The liveness check: this process can run Python (no I/O, no probes)."""

    def probe():
        return Outcome("pass", f"python {platform.python_version()}, pid {os.getpid()}")

    return Check("process", probe, component_type="system", live=True)


def config_check(cfg):
    """The configuration loaded and validated; env:VAR secrets that are unset warn."""

    def probe():
        missing = [
            f"models[{i}].api_key: {m['api_key'][4:]} is not set"
            for i, m in enumerate(cfg.models)
            if isinstance(m.get("api_key"), str)
            and m["api_key"].startswith("env:")
            and cfg.secret(m["api_key"]) is None
        ]
        source = os.path.basename(cfg.path) if cfg.path else "defaults (no config file)"
        if missing:
            return Outcome(
                "warn", f"{source}: {missing[0]}" + (f" (+{len(missing) - 1} more)" * (len(missing) > 1))
            )
        return Outcome("pass", f"valid: {source}, {len(cfg.models)} models")

    return Check("config", probe, component_type="system")


def store_check(cfg):
    """The store opens the way every reader opens it (read-only, validated) and passes ``PRAGMA quick_check``."""

    def probe():
        from devkit.store import NO_SQLITE, sqlite_available, store_path

        if not sqlite_available():
            return Outcome("warn", NO_SQLITE)
        path = store_path(cfg)
        if not os.path.exists(path):
            return Outcome("pass", "no store yet")
        return quick_check(cfg)

    return Check("store", probe, component_type="datastore", critical=False, measurement="size")


def quick_check(cfg):
    """Outcome of opening the store of ``cfg`` read-only and running ``PRAGMA quick_check`` on it."""
    import sqlite3

    from devkit.errors import StoreError
    from devkit.store import read_store, store_path

    path = store_path(cfg)
    try:
        with read_store(cfg) as store:
            rows = store.conn.execute("PRAGMA quick_check").fetchall()
            size_bytes = store.info()["size_bytes"]
    except StoreError as error:
        return Outcome("fail", error.message)
    except sqlite3.Error as error:
        return Outcome("fail", f"{path}: cannot read the metrics store: {error}")
    verdict = "; ".join(str(row[0]) for row in rows[:3])
    if verdict != "ok":
        return Outcome("fail", f"quick_check of {path}: {verdict}")
    size_mb = size_bytes / (1024 * 1024)
    return Outcome("pass", f"quick_check ok ({units.human_size(size_bytes)})", round(size_mb, 2), "MB")


def budget_checks(cfg, now):
    """Checks for ``health.token_budget_24h`` and ``cost_budget_24h``; none when neither is set."""
    health, checks = cfg.section("health"), []
    for kind, budget in (("tokens", health["token_budget_24h"]), ("cost", health["cost_budget_24h"])):
        if budget is not None:

            def probe(kind=kind, budget=budget):
                return budget_outcome(kind, _used_24h(cfg, now, kind), budget)

            checks.append(
                Check(
                    f"budget.{kind}",
                    probe,
                    component_type="budget",
                    critical=False,
                    measurement="used",
                    component_id=kind,
                )
            )
    return checks


def _used_24h(cfg, now, kind):
    from devkit.store import open_store, store_path

    if not os.path.exists(store_path(cfg)):
        return 0

    with open_store(cfg) as store:
        totals = store.totals(since_ts=now - DAY_S)
    return totals["total_tokens"] if kind == "tokens" else totals["cost"]


def budget_outcome(kind, used, budget):
    """warn at 80 % of the budget, fail at 100 %."""
    share = used / budget if budget else (1.0 if used else 0.0)
    unit = "tokens" if kind == "tokens" else "USD"
    shown = f"{used:,.0f} of {budget:,.0f} tokens" if kind == "tokens" else f"${used:,.4f} of ${budget:,.2f}"
    text = f"{shown} in the last 24 h ({share * 100:.0f} %)"
    perf = (perf_number(0.8 * budget), perf_number(budget), "0", perf_number(budget))
    value = used if kind == "tokens" else round(used, 6)
    if share >= 1.0:
        return Outcome("fail", "over budget: " + text, value, unit, perf)
    if share >= 0.8:
        return Outcome("warn", "near budget: " + text, value, unit, perf)
    return Outcome("pass", text, value, unit, perf)

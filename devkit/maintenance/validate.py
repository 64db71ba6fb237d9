"""``validate``: one checklist over config, JSON data, SQLite, model endpoints and a self-test.

Each item is ``{"name", "status": pass|warn|fail, "output", "details"}``; the overall status is the
worst item, mapped to exit codes as ``devkit health`` does (0 OK, 1 WARNING, 2 CRITICAL).
"""

import json
import os

from devkit.errors import ConfigError
from devkit.maintenance import treewalk

MAX_JSON_FILES = 100000
MAX_JSON_BYTES = 64 * 1024 * 1024
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_RANK = {"pass": 0, "warn": 1, "fail": 2}


def item(name, status, output, details=()):
    """One checklist line."""
    return {"name": name, "status": status, "output": output, "details": list(details)}


def validate(config_path=None, cwd=None, env=None, now=None, self_test=True, deadline_s=10.0):
    """Run every validation; return ``{"status", "items"}``."""
    from devkit.config import validate_config

    try:
        report = validate_config(config_path, cwd, env)
    except ConfigError as exc:
        return _result([item("config", "fail", exc.message)])
    cfg = report["config"]
    items = [_config_item(report)]
    if report["problems"]:
        return _result(items)
    items += [json_files_item(cfg), sqlite_item(cfg), models_item(cfg, deadline_s), backup_item(cfg)]
    if self_test:
        from devkit.maintenance.selftest import self_test_item

        items.append(self_test_item(now))
    return _result(items)


def _result(items):
    status = max((i["status"] for i in items), key=_RANK.__getitem__, default="pass")
    return {"status": status, "items": items}


def _config_item(report):
    source = report["file"] or "defaults (no config file)"
    if report["problems"]:
        return item("config", "fail", f"{len(report['problems'])} problem(s) in {source}", report["problems"])
    return item("config", "pass", f"valid: {source}")


def _data_roots(cfg):
    places = list(cfg.get("project", "data_dirs")) + list(cfg.get("storage", "paths"))
    places += [cfg.get("experiments", "path"), cfg.get("project", "state_dir")]
    found = sorted(
        p for p in {os.path.realpath(cfg.resolve_path(p)) for p in places if p} if os.path.isdir(p)
    )
    return [p for p in found if not any(p.startswith(q.rstrip(os.sep) + os.sep) for q in found)]


def json_files_item(cfg):
    """Every ``*.json`` file under the data dirs, storage paths, experiments and state dir parses."""
    bad, count = [], 0
    for root in _data_roots(cfg):
        for path in treewalk.iter_files(root, lambda name: name.endswith(".json"), MAX_JSON_FILES):
            count += 1
            problem = _json_problem(path)
            if problem:
                bad.append(f"{path}: {problem}")
    if bad:
        return item("json files", "fail", f"{len(bad)} of {count} JSON files do not parse", bad)
    return item("json files", "pass", f"{count} JSON files parse")


def _json_problem(path):
    try:
        if os.path.getsize(path) > MAX_JSON_BYTES:
            return f"larger than {MAX_JSON_BYTES} bytes; not parsed"
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        return f"line {line}: {exc.msg}" if line else f"not UTF-8 JSON: {exc}"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    return None


def sqlite_item(cfg):
    """``PRAGMA integrity_check`` of devkit's store and of every SQLite file in the data dirs."""
    from devkit.store import NO_SQLITE, sqlite_available, store_path

    if not sqlite_available():
        return item("sqlite", "warn", NO_SQLITE)
    paths = [store_path(cfg)] if os.path.exists(store_path(cfg)) else []
    for root in _data_roots(cfg):
        paths += list(treewalk.iter_files(root, lambda name: name.endswith(SQLITE_SUFFIXES), 1000))
    paths = sorted(set(paths))
    bad = [f"{path}: {problem}" for path in paths for problem in [integrity_problem(path)] if problem]
    if bad:
        return item("sqlite", "fail", f"{len(bad)} of {len(paths)} SQLite files fail integrity_check", bad)
    if not paths:
        return item("sqlite", "pass", "no SQLite files yet")
    return item("sqlite", "pass", f"{len(paths)} SQLite file(s) pass integrity_check")


def integrity_problem(path):
    """None when ``path`` opens read-only and passes ``PRAGMA integrity_check``, else the problem."""
    import sqlite3

    from devkit.store.reader import connect_readonly

    try:
        conn = connect_readonly(path)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    answer = "; ".join(str(r[0]) for r in rows[:5])
    return None if answer == "ok" else answer


def models_item(cfg, deadline_s):
    """Every configured model endpoint answers (the probes of ``devkit health``)."""
    from devkit.health.models import model_check
    from devkit.health.runner import run_checks

    if not cfg.models:
        return item("models", "pass", "no models configured")
    report = run_checks([model_check(cfg, m) for m in cfg.models], deadline_s, scrub=cfg.scrub)
    details = [f"{r.name}: {r.status}: {r.output}" for r in report.results]
    reachable = sum(1 for r in report.results if r.status != "fail")
    return item("models", report.status, f"{reachable} of {len(details)} reachable", details)


def backup_item(cfg):
    """The newest backup in backup.dir verifies completely (warn when there is none yet)."""
    from devkit.maintenance.backup import list_backups, verify_backup

    folder = cfg.resolve_path(cfg.get("backup", "dir"))
    backups = list_backups(folder)
    if not backups:
        return item("backup", "warn", f"no backup yet in {folder}")
    latest = backups[0]
    checked = verify_backup(latest["path"])
    if not checked["ok"]:
        return item("backup", "fail", f"{latest['name']} does not verify", checked["problems"])
    return item("backup", "pass", f"{latest['name']} verifies ({checked['files']} files)")

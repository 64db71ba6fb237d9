"""Cleanup: plan, and on request carry out, removal of old experiments and temp files and archiving of old logs.

Each direct child of the experiments folder is one experiment, aged as a unit by the newest
timestamp under it and removed whole or not at all. Temp files and logs are searched in the
cleanup roots (``cleanup.roots``, default ``project.data_dirs``), outside the experiments folder.
Nothing is followed through a symlink, no other filesystem is entered, and the state dir, the
backup dir and the archive dir are never touched.
"""

import fnmatch
import os
import re
import time

from devkit.config.schema import AGE_BY
from devkit.errors import ConfigError, OperationError
from devkit.maintenance import logarchive, treewalk
from devkit.util.lock import storage_lock

DAY_S = 86400.0
HOUR_S = 3600.0


def cleanup(cfg, older_than_s=None, age_by=None, apply=False, now=None):
    """The cleanup plan of ``cfg``; with ``apply`` also carry it out under the storage lock.

    Returns ``{"settings", "entries", "skipped", "notes", "total_bytes", "applied", "result"}``.
    """
    settings = _settings(cfg, older_than_s, age_by, now)
    if not apply:
        return _plan(cfg, settings)
    with storage_lock(cfg.state_dir, "cleanup"):
        planned = _plan(cfg, settings)
        planned["result"] = _carry_out(planned, settings)
        planned["applied"] = True
    return planned


def _settings(cfg, older_than_s, age_by, now):
    section = cfg.section("cleanup")
    age_by = age_by or section["age_by"]
    if age_by not in AGE_BY:
        raise ConfigError(f"cleanup.age_by: expected one of {', '.join(AGE_BY)}, got {age_by!r}")
    older_than_s = section["older_than_days"] * DAY_S if older_than_s is None else float(older_than_s)
    if older_than_s < 0:
        raise ConfigError(f"cleanup older-than: expected a duration >= 0, got {older_than_s}")
    now = time.time() if now is None else float(now)
    return {
        "now": now,
        "age_by": age_by,
        "older_than_s": older_than_s,
        "temp_min_age_s": section["temp_min_age_hours"] * HOUR_S,
        "log_days": section["log_days"],
        "temp_match": _matcher(section["patterns"]),
        "log_match": _matcher(section["log_patterns"]),
        "archive_dir": cfg.resolve_path(section["archive_dir"]),
    }


def _matcher(patterns):
    if not patterns:
        return lambda name: False
    return re.compile("|".join(fnmatch.translate(p) for p in patterns)).match


def _plan(cfg, settings):
    guard = Guard(cfg, settings["archive_dir"])
    planned = {
        "settings": _public(settings),
        "entries": [],
        "skipped": [],
        "notes": [],
        "applied": False,
        "result": None,
    }
    _plan_experiments(guard, settings, planned)
    for root in guard.roots(planned["notes"]):
        _plan_root(root, guard, settings, planned)
    planned["total_bytes"] = sum(e["size_bytes"] for e in planned["entries"])
    return planned


def _public(settings):
    return {k: v for k, v in settings.items() if not k.endswith("_match")}


class Guard:
    """The roots cleanup may work in and the paths it must never touch."""

    def __init__(self, cfg, archive_dir):
        self.cfg = cfg
        self.protected = {os.path.realpath(p) for p in (cfg.state_dir, archive_dir, _backup_dir(cfg))}
        experiments = cfg.resolve_path(cfg.get("experiments", "path"))
        self.experiments = os.path.realpath(experiments) if os.path.isdir(experiments) else None

    def check_root(self, path, key):
        """``path`` resolved, or ConfigError when it is empty, ``/``, home (or above it) or protected."""
        if not str(path).strip():
            raise ConfigError(f"{key}: an empty path is refused as a cleanup root")
        real = os.path.realpath(self.cfg.resolve_path(path))
        home = os.path.realpath(os.path.expanduser("~"))
        if real == os.sep or real == home or home.startswith(real.rstrip(os.sep) + os.sep):
            raise ConfigError(f"{key}: {real} is refused as a cleanup root (/, the home folder or above it)")
        for kept in self.protected:
            if real == kept or real.startswith(kept + os.sep):
                raise ConfigError(f"{key}: {real} is inside {kept}, which cleanup never touches")
        return real

    def roots(self, notes):
        """The existing cleanup roots (``cleanup.roots``, else ``project.data_dirs``), checked."""
        key = "cleanup.roots" if self.cfg.get("cleanup", "roots") else "project.data_dirs"
        found = []
        for path in self.cfg.get(*key.split(".")):
            real = self.check_root(path, key)
            if os.path.isdir(real):
                found.append(real)
            else:
                notes.append(f"{key}: {real} is not a folder; skipped")
        return sorted(set(found))

    def excluded(self, path):
        """True for the protected folders and the experiments folder (handled as whole experiments)."""
        return path in self.protected or path == self.experiments


def _backup_dir(cfg):
    return cfg.resolve_path(cfg.get("backup", "dir"))


def _plan_experiments(guard, settings, planned):
    if guard.experiments is None:
        planned["notes"].append("experiments.path is not a folder; no experiments to clean")
        return
    folder = guard.check_root(guard.experiments, "experiments.path")
    cutoff = settings["now"] - settings["older_than_s"]
    with os.scandir(folder) as it:
        children = sorted(entry.path for entry in it)
    for path in children:
        if not guard.excluded(path):
            limit = f"older than {_age_text(settings['older_than_s'])}"
            _consider(path, "experiment", cutoff, settings, planned, f"experiment {limit}")


def _consider(path, kind, cutoff, settings, planned, reason):
    try:
        info = treewalk.summarize(path, settings["age_by"], cutoff)
    except OSError as exc:
        planned["skipped"].append({"path": path, "reason": f"cannot read: {exc.strerror or exc}"})
        return
    if info["blocked"]:
        planned["skipped"].append({"path": path, "reason": info["blocked"]})
    elif not info["fresh"]:
        planned["entries"].append(_entry(kind, "delete", path, info, settings["now"], reason))


def _entry(kind, action, path, info, now, reason):
    return {
        "kind": kind,
        "action": action,
        "path": path,
        "size_bytes": info["size_bytes"],
        "files": info["files"],
        "age_s": max(0.0, now - info["newest_ts"]),
        "reason": reason,
    }


def _plan_root(root, guard, settings, planned):
    device = os.lstat(root).st_dev
    stack = [(root, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            planned["skipped"].append({"path": folder, "reason": f"cannot list: {exc.strerror or exc}"})
            continue
        if any(e.name == treewalk.KEEP_MARKER for e in entries):
            planned["skipped"].append({"path": folder, "reason": f"protected by {treewalk.KEEP_MARKER}"})
            continue
        for entry in entries:
            _plan_entry(entry, root, device, depth, guard, settings, planned, stack)


def _plan_entry(entry, root, device, depth, guard, settings, planned, stack):
    if guard.excluded(entry.path):
        return
    if settings["temp_match"](entry.name):
        cutoff = settings["now"] - settings["temp_min_age_s"]
        _consider(entry.path, "temp", cutoff, settings, planned, "temporary (matches cleanup.patterns)")
    elif settings["log_match"](entry.name) and entry.is_file(follow_symlinks=False):
        _consider_log(entry, root, settings, planned)
    elif entry.is_dir(follow_symlinks=False) and depth < treewalk.MAX_DEPTH:
        if entry.stat(follow_symlinks=False).st_dev == device:
            stack.append((entry.path, depth + 1))


def _consider_log(entry, root, settings, planned):
    st = entry.stat(follow_symlinks=False)
    when = treewalk.stamp(st, settings["age_by"])
    limit_s = settings["log_days"] * DAY_S
    if when >= settings["now"] - limit_s:
        return
    relative = os.path.join(os.path.basename(root), os.path.relpath(entry.path, root))
    target = logarchive.archive_name(settings["archive_dir"], relative, settings["now"])
    info = {"size_bytes": st.st_size, "files": 1, "newest_ts": when}
    item = _entry("log", "archive", entry.path, info, settings["now"], f"log older than {_age_text(limit_s)}")
    item["archive"] = target
    planned["entries"].append(item)


def _carry_out(planned, settings):
    result = {"removed": [], "archived": [], "failed": [], "changed": [], "reclaimed_bytes": 0}
    for item in planned["entries"]:
        if item["action"] == "archive":
            _archive(item, result)
        else:
            _delete(item, settings, result)
    return result


def _delete(item, settings, result):
    limit = settings["older_than_s"] if item["kind"] == "experiment" else settings["temp_min_age_s"]
    try:
        again = treewalk.summarize(item["path"], settings["age_by"], settings["now"] - limit)
    except FileNotFoundError:
        return
    except OSError as exc:
        result["failed"].append({"path": item["path"], "error": exc.strerror or str(exc)})
        return
    if again["blocked"] or again["fresh"]:
        result["changed"].append(
            {"path": item["path"], "reason": again["blocked"] or "changed since planned"}
        )
        return
    if treewalk.remove(item["path"], result["failed"]):
        result["removed"].append(item["path"])
        result["reclaimed_bytes"] += item["size_bytes"]


def _archive(item, result):
    try:
        written = logarchive.archive_log(item["path"], item["archive"])
    except OperationError as exc:
        result["failed"].append({"path": item["path"], "error": exc.message})
        return
    result["archived"].append({"path": item["path"], "archive": item["archive"], "bytes": written})
    result["reclaimed_bytes"] += max(0, item["size_bytes"] - written)


def _age_text(seconds):
    if seconds >= DAY_S:
        return f"{seconds / DAY_S:g}d"
    if seconds >= HOUR_S:
        return f"{seconds / HOUR_S:g}h"
    return f"{seconds:g}s"

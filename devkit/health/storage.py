"""Storage checks: each configured path exists, is a writable directory with free space, and its JSON parses."""

import json
import os
import shutil
import uuid

from devkit.health.core import Check, Outcome, perf_number

MB = 1024 * 1024


def storage_checks(cfg):
    """One Check per ``storage.paths`` entry (name ``storage.<path as configured>``)."""
    storage, health = cfg.section("storage"), cfg.section("health")
    checks = []
    for path in storage["paths"]:
        absolute = cfg.resolve_path(path)

        def probe(absolute=absolute):
            return check_path(absolute, storage["min_free_mb"], health["json_sample_limit"])

        checks.append(
            Check(f"storage.{path}", probe, component_type="storage", measurement="free", component_id=path)
        )
    return checks


def check_path(path, min_free_mb, json_sample_limit):
    """Outcome for one directory: existence, write-read-delete, free space, then JSON files."""
    if not os.path.exists(path):
        return Outcome("fail", f"missing: {path} does not exist")
    if not os.path.isdir(path):
        return Outcome("fail", f"not a directory: {path}")
    problem = _round_trip(path)
    if problem:
        return Outcome("fail", f"not writable: {problem}")
    free_mb = shutil.disk_usage(path).free / MB
    perf = (perf_number(2 * min_free_mb) + ":", perf_number(min_free_mb) + ":", "0", None)
    bad, parsed = bad_json_files(path, json_sample_limit)
    space = _space_words(free_mb, min_free_mb)
    value = round(free_mb, 1)
    if bad:
        more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
        return Outcome("fail", f"bad JSON: {', '.join(bad[:3])}{more}; {space[1]}", value, "MB", perf)
    return Outcome(space[0], f"{space[1]}; {parsed} JSON files parse", value, "MB", perf)


def _space_words(free_mb, min_free_mb):
    if free_mb < min_free_mb:
        return "fail", f"low space: {free_mb:.0f} MB free, below the {min_free_mb:g} MB minimum"
    if free_mb < 2 * min_free_mb:
        return "warn", f"low space: {free_mb:.0f} MB free, below 2x the {min_free_mb:g} MB minimum"
    return "pass", f"writable, {free_mb:.0f} MB free"


def _round_trip(path):
    probe = os.path.join(path, f".devkit-health-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    payload = uuid.uuid4().bytes
    try:
        with open(probe, "wb") as handle:
            handle.write(payload)
        with open(probe, "rb") as handle:
            if handle.read() != payload:
                return f"read back different bytes in {path}"
        os.unlink(probe)
    except OSError as error:
        _remove_quietly(probe)
        return f"{path}: {error.strerror or error}"
    return None


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def bad_json_files(root, limit):
    """``(["rel/path.json:line", ...], parsed)`` for up to ``limit`` JSON files below ``root``."""
    bad, seen = [], 0
    for name in _json_files(root):
        if seen >= limit:
            break
        seen += 1
        problem = _json_problem(os.path.join(root, name))
        if problem is not None:
            bad.append(f"{name}:{problem}")
    return bad, seen - len(bad)


def _json_files(root):
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".json"):
                yield os.path.relpath(os.path.join(directory, name), root)


def _json_problem(path):
    try:
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
    except json.JSONDecodeError as error:
        return f"{error.lineno} ({error.msg})"
    except UnicodeDecodeError:
        return "1 (not UTF-8)"
    except OSError as error:
        return f"1 ({error.strerror or error})"
    return None

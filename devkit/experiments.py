"""Find the app's JSON experiment records (a folder or a glob) and describe each.

One bad record (a timestamp no calendar holds, NaN, nesting deeper than the parser
goes) is reported in that record's ``error``; the others are still listed.
"""

import glob
import json
import os

from devkit.util import utc_iso

_DATE_KEYS = ("date", "created_at", "timestamp", "started_at", "ts")
_MAX_PARSE_BYTES = 16 * 1024 * 1024
_MAX_FILES = 10_000
_MAX_TEXT = 200


def find_experiments(cfg):
    """Return one dict per record (id, date, size_bytes, path, error), newest first (at most 10,000)."""
    records = [
        r for r in (_describe(path, cfg.root) for path in experiment_paths(cfg)[:_MAX_FILES]) if r is not None
    ]
    records.sort(key=lambda r: r["date"] or "", reverse=True)
    return records


def experiment_paths(cfg):
    """Paths of every JSON experiment record (experiments.path: a folder, searched deep, or a glob), sorted."""
    pattern = _pattern(cfg)
    return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))


def search_hint(cfg):
    """Why a search found nothing, in words: the path is not set, set but missing, or holds no JSON."""
    configured = cfg.get("experiments", "path")
    folder = cfg.resolve_path(configured)
    is_glob = glob.has_magic(configured)
    if cfg.sources.get("experiments.path") == "default" and not os.path.exists(folder):
        return f"experiments.path is not set and the default folder {configured}/ does not exist"
    if not is_glob and not os.path.exists(folder):
        return f"experiments.path is set to {configured!r}, but {folder} does not exist"
    return f"no JSON records match experiments.path {configured!r}"


def _pattern(cfg):
    pattern = cfg.resolve_path(cfg.get("experiments", "path"))
    return os.path.join(pattern, "**", "*.json") if os.path.isdir(pattern) else pattern


def _describe(path, root):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    record = {
        "id": os.path.splitext(os.path.basename(path))[0],
        "date": utc_iso(stat.st_mtime),
        "size_bytes": stat.st_size,
        "path": os.path.relpath(path, root),
        "error": None,
    }
    if stat.st_size > _MAX_PARSE_BYTES:
        return record
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        record["error"] = f"unreadable: {exc}"
    except RecursionError:
        record["error"] = "invalid JSON: nested too deeply"
    except ValueError as exc:
        record["error"] = f"invalid JSON at line {getattr(exc, 'lineno', '?')}"
    else:
        _take_fields(record, data)
    return record


def _take_fields(record, data):
    if not isinstance(data, dict):
        return
    if isinstance(data.get("id"), (str, int)) and not isinstance(data.get("id"), bool):
        record["id"] = str(data["id"])[:_MAX_TEXT]
    for key in _DATE_KEYS:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            record["date"], record["error"] = _date_of(key, value)
            return
        if isinstance(value, str) and value:
            record["date"] = value[:_MAX_TEXT]
            return


def _date_of(key, value):
    try:
        return utc_iso(value), None
    except (OverflowError, ValueError, OSError):
        return None, f"bad {key}: {value!r} is not a timestamp"

"""Find the app's JSON experiment records (a folder or a glob) and describe each."""

import glob
import json
import os

from devkit.util import utc_iso

_DATE_KEYS = ("date", "created_at", "timestamp", "started_at", "ts")
_MAX_PARSE_BYTES = 16 * 1024 * 1024


def find_experiments(cfg):
    """Return one dict per record (id, date, size_bytes, path, error), newest first."""
    records = [_describe(path, cfg.root) for path in experiment_paths(cfg)]
    records.sort(key=lambda r: r["date"] or "", reverse=True)
    return records


def experiment_paths(cfg):
    """Paths of every JSON experiment record (experiments.path: a folder, searched deep, or a glob), sorted."""
    pattern = cfg.resolve_path(cfg.get("experiments", "path"))
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, "**", "*.json")
    return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))


def _describe(path, root):
    stat = os.stat(path)
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
    except ValueError as exc:
        record["error"] = f"invalid JSON at line {getattr(exc, 'lineno', '?')}"
    else:
        _take_fields(record, data)
    return record


def _take_fields(record, data):
    if not isinstance(data, dict):
        return
    if isinstance(data.get("id"), (str, int)):
        record["id"] = str(data["id"])
    for key in _DATE_KEYS:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            record["date"] = utc_iso(value)
            return
        if isinstance(value, str) and value:
            record["date"] = value
            return

"""All experiment JSON records as one RFC 4180 CSV: nested fields as dotted columns, lists as JSON text.

Columns are ``_path`` (the record's file, relative to the project root) and then the union of
every record's flattened keys in sorted order, so the same records always give the same file.
"""

import csv
import io
import json
import os

from devkit.experiments import experiment_paths

MAX_RECORD_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
PATH_COLUMN = "_path"


def flatten(value, prefix="", out=None, depth=0):
    """``{"a": {"b": 1}, "c": [1, 2]}`` -> ``{"a.b": 1, "c": "[1, 2]"}``; empty or too deep objects stay JSON."""
    out = {} if out is None else out
    if isinstance(value, dict) and value and depth < MAX_DEPTH:
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    elif isinstance(value, (dict, list)):
        out[prefix or "value"] = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        out[prefix or "value"] = value
    return out


def read_records(cfg):
    """``(rows, problems)``: one flattened dict per readable record, and one line per unreadable file."""
    rows, problems = [], []
    for path in experiment_paths(cfg):
        relative = os.path.relpath(path, cfg.root)
        try:
            if os.path.getsize(path) > MAX_RECORD_BYTES:
                raise ValueError(f"larger than {MAX_RECORD_BYTES} bytes")
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            line = getattr(exc, "lineno", None)
            problems.append(f"{relative}: {'line ' + str(line) + ': ' if line else ''}{_reason(exc)}")
            continue
        row = flatten(data)
        row[PATH_COLUMN] = relative
        rows.append(row)
    return rows, problems


def _reason(exc):
    return getattr(exc, "msg", None) or getattr(exc, "strerror", None) or str(exc)


def columns_of(rows):
    """``_path`` then the union of all keys, sorted."""
    keys = set()
    for row in rows:
        keys.update(row)
    keys.discard(PATH_COLUMN)
    return [PATH_COLUMN] + sorted(keys)


def csv_chunks(rows, columns):
    """Iterate the CSV text (header, then one line per row) in chunks of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value

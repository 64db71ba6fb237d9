"""``MANIFEST.json`` (what a backup holds) and the backup folder's index (counts, verify results)."""

import json
import os

import devkit
from devkit.util.fs import atomic_write

FORMAT = 2
INDEX_NAME = ".devkit-backups.json"
MAX_MANIFEST_BYTES = 512 << 20
# Column order of the entries table; a column is written only when some entry has that key.
COLUMNS = (
    "path",
    "type",
    "mode",
    "mtime_ns",
    "size",
    "sha256",
    "target",
    "sqlite_copy",
    "changed_while_read",
)


def build_manifest(created_ts, sources, entries):
    """The manifest dict: devkit version, created, sources, the entries as columns, totals.

    ``entries`` is one dict per member; column ``k`` holds each entry's ``k`` (null where it has none),
    so the keys are written once, not once per file.
    """
    files = [e for e in entries if e["type"] == "file"]
    keys = set().union(*entries)
    present = ([k for k in COLUMNS if k in keys] + sorted(keys.difference(COLUMNS))) or ["path"]
    return {
        "format": FORMAT,
        "devkit_version": devkit.__version__,
        "created": created_ts,
        "sources": list(sources),
        "entries": {key: [e.get(key) for e in entries] for key in present},
        "totals": {"files": len(files), "bytes": sum(e["size"] for e in files), "entries": len(entries)},
    }


def parse_manifest(data):
    """The manifest as a dict keyed by path; raise ValueError with a one-line reason when unusable."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"MANIFEST.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), (list, dict)):
        raise ValueError("MANIFEST.json has no entries list")
    entries = manifest["entries"]
    by_path = {}
    for entry in _rows(entries) if isinstance(entries, dict) else entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ValueError("MANIFEST.json holds an entry without a path")
        if entry["path"] in by_path:
            raise ValueError(f"MANIFEST.json lists {entry['path']!r} twice")
        by_path[entry["path"]] = entry
    return manifest, by_path


def _rows(columns):
    """Format 2's columns back into one dict per entry (format 1 stored those dicts as they are)."""
    if not all(isinstance(c, list) for c in columns.values()) or len({len(c) for c in columns.values()}) > 1:
        raise ValueError("MANIFEST.json has entry columns that are not lists of one length")
    keys = list(columns)
    return [{k: v for k, v in zip(keys, row) if v is not None} for row in zip(*columns.values())]


def read_index(backup_dir):
    """The index of ``backup_dir`` (``{name: {...}}``); empty when missing or unreadable."""
    try:
        with open(os.path.join(backup_dir, INDEX_NAME), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    backups = data.get("backups") if isinstance(data, dict) else None
    return backups if isinstance(backups, dict) else {}


def update_index(backup_dir, name, **fields):
    """Merge ``fields`` into the index record of ``name`` (``remove=True`` drops it); atomic write."""
    index = read_index(backup_dir)
    if fields.get("remove"):
        index.pop(name, None)
    else:
        index.setdefault(name, {}).update(fields)
    present = {n: v for n, v in index.items() if os.path.exists(os.path.join(backup_dir, n))}
    atomic_write(os.path.join(backup_dir, INDEX_NAME), json.dumps({"format": FORMAT, "backups": present}))


def file_identity(path):
    """(size, mtime_ns) of ``path``: a verify result holds only while the file is unchanged."""
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]

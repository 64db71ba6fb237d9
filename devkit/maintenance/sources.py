"""What a backup holds: the files under its sources, each with the name it gets in the archive."""

import fnmatch
import os
import stat

from devkit.errors import UsageError
from devkit.maintenance.archive import MANIFEST_NAME, TMP_PREFIX
from devkit.store.copy import is_sqlite
from devkit.util.lock import LOCK_NAME

# SQLite's side files: the database itself is copied whole through the online backup API.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class Entry:
    """One thing to archive: its archive name, where it is, and its lstat result."""

    __slots__ = ("name", "path", "st")

    def __init__(self, name, path, st):
        self.name, self.path, self.st = name, path, st


def default_sources(cfg):
    """``backup.include``, else the data dirs, experiments, the config file and devkit's state."""
    include = cfg.get("backup", "include")
    if include:
        return [cfg.resolve_path(p) for p in include]
    candidates = list(cfg.get("project", "data_dirs")) + [cfg.get("experiments", "path")]
    paths = [cfg.resolve_path(p) for p in candidates if p and not any(ch in p for ch in "*?[")]
    if cfg.path:
        paths.append(cfg.path)
    paths.append(cfg.state_dir)
    return [p for p in dict.fromkeys(paths) if os.path.lexists(p)]


def collect(sources, root, excludes, skip_dirs):
    """Every entry under ``sources``, named relative to ``root``, sorted; raise UsageError on a bad source."""
    entries = {}
    for source in sources:
        source = os.path.abspath(source)
        if not os.path.lexists(source):
            raise UsageError(f"source {source}: no such file or folder")
        base = _archive_base(source, root)
        for entry in _walk(source, base, excludes, skip_dirs):
            entries.setdefault(entry.name, entry)
    return [entries[name] for name in sorted(entries)]


def _archive_base(source, root):
    relative = os.path.relpath(source, root)
    if relative == ".":
        return ""
    if relative.startswith(os.pardir):
        # A source outside the project keeps its own folder name at the top of the archive.
        return os.path.basename(source)
    return relative.replace(os.sep, "/")


def _walk(source, base, excludes, skip_dirs):
    st = os.lstat(source)
    if base and not _excluded(base, excludes):
        yield Entry(base, source, st)
    if not stat.S_ISDIR(st.st_mode):
        return
    for top, dirs, files in os.walk(source):
        rel_top = os.path.relpath(top, source).replace(os.sep, "/")
        prefix = "/".join(p for p in (base, "" if rel_top == "." else rel_top) if p)
        dirs[:] = sorted(d for d in dirs if os.path.join(top, d) not in skip_dirs)
        for name in dirs + sorted(files):
            entry = _entry(top, name, prefix, excludes)
            if entry is not None:
                yield entry


def _entry(top, name, prefix, excludes):
    archive_name = f"{prefix}/{name}" if prefix else name
    path = os.path.join(top, name)
    if _excluded(archive_name, excludes) or _is_own_file(name, path):
        return None
    if archive_name == MANIFEST_NAME:
        raise UsageError(f"source file {path}: would be named {MANIFEST_NAME} in the archive, "
                         "which is the backup's own manifest; back up its folder from one level up")  # fmt: skip
    try:
        return Entry(archive_name, path, os.lstat(path))
    except FileNotFoundError:
        return None


def _is_own_file(name, path):
    if name == LOCK_NAME or name.startswith(TMP_PREFIX):
        return True
    side = next((s for s in SQLITE_SIDE_FILES if name.endswith(s)), None)
    return side is not None and is_sqlite(path[: -len(side)])


def _excluded(archive_name, excludes):
    base = archive_name.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(archive_name, g) or fnmatch.fnmatchcase(base, g) for g in excludes)

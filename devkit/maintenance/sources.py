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
    if stat.S_ISDIR(st.st_mode):
        yield from _walk_dir(source, base, excludes, skip_dirs)


def _walk_dir(folder, prefix, excludes, skip_dirs):
    try:
        with os.scandir(folder) as listing:
            items = sorted(listing, key=lambda item: item.name)
    except FileNotFoundError:
        return
    for item in items:
        name = f"{prefix}/{item.name}" if prefix else item.name
        if item.path in skip_dirs or _excluded(name, excludes) or _is_own_file(item.name, item.path):
            continue
        if name == MANIFEST_NAME:
            raise UsageError(
                f"source file {item.path}: would be named {MANIFEST_NAME} in the archive, "
                "which is the backup's own manifest; back up its folder from one level up"
            )
        try:
            entry = Entry(name, item.path, item.stat(follow_symlinks=False))
        except FileNotFoundError:
            continue
        yield entry
        if stat.S_ISDIR(entry.st.st_mode):
            yield from _walk_dir(item.path, name, excludes, skip_dirs)


def _is_own_file(name, path):
    if name == LOCK_NAME or name.startswith(TMP_PREFIX):
        return True
    if not name.endswith(SQLITE_SIDE_FILES):  # nearly every file: one C call
        return False
    side = next(s for s in SQLITE_SIDE_FILES if name.endswith(s))
    return is_sqlite(path[: -len(side)])


def _excluded(archive_name, excludes):
    if not excludes:
        return False
    base = archive_name.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(archive_name, g) or fnmatch.fnmatchcase(base, g) for g in excludes)

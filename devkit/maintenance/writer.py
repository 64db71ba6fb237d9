"""Write the collected entries and their MANIFEST.json into one ``.tar.gz`` stream.

Each file is read once: hashed and compressed from the same chunks. A file that changes
while it is read is still stored (the archive stays valid) but reported and marked in the
manifest; a SQLite database is stored as a consistent copy taken through the online backup API.
"""

import json
import os
import stat
import tarfile

from devkit.maintenance.archive import CHUNK, MANIFEST_NAME, TarGzWriter
from devkit.maintenance.manifest import build_manifest
from devkit.store.copy import SQLITE_MAGIC, consistent_copy

OUT_BUFFER = 1 << 20
# setuid/setgid bits are never archived: restore refuses them, so a backup never carries them.
MODE_MASK = 0o1777
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def write_entries(handle, entries, now, sources, level, scratch, progress=None):
    """Write ``entries`` then the manifest to ``handle``; return counts, bytes and warnings."""
    state = {
        "records": [],
        "warnings": [],
        "sqlite_copies": 0,
        "done": 0,
        "scratch": scratch,
        "total": sum(e.st.st_size for e in entries if stat.S_ISREG(e.st.st_mode)),
        "progress": progress,
    }
    with TarGzWriter(handle, level) as out:
        for entry in entries:
            record = _add(out, entry, state)
            if record is not None:
                state["records"].append(record)
        manifest = build_manifest(now, sources, state["records"])
        body = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        out.add_bytes(MANIFEST_NAME, body, 0o644, int(now))
        out.close()
    totals = manifest["totals"]
    return {
        "files": totals["files"],
        "entries": totals["entries"],
        "bytes": totals["bytes"],
        "sqlite_copies": state["sqlite_copies"],
        "warnings": state["warnings"],
        "level": level,
    }


def _record(entry, kind, **extra):
    st = entry.st
    record = {"path": entry.name, "type": kind, "mode": st.st_mode & MODE_MASK, "mtime_ns": st.st_mtime_ns}
    record.update(extra)
    return record


def _add(out, entry, state):
    st = entry.st
    if stat.S_ISREG(st.st_mode):
        return _add_file(out, entry, state)
    if stat.S_ISDIR(st.st_mode):
        out.add_header(
            entry.name, tarfile.DIRTYPE, st.st_mode & MODE_MASK, int(st.st_mtime), st.st_uid, st.st_gid
        )
        return _record(entry, "dir")
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(entry.path)
        out.add_header(entry.name, tarfile.SYMTYPE, 0o777, int(st.st_mtime), st.st_uid, st.st_gid, 0, target)
        return _record(entry, "symlink", target=target)
    state["warnings"].append(f"{entry.path}: not a regular file, folder or symlink; skipped")
    return None


def _add_file(out, entry, state, source=None):
    st = entry.st
    try:
        fd = os.open(source or entry.path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        state["warnings"].append(f"{entry.path}: disappeared before it was read; skipped")
        return None
    except OSError as exc:
        state["warnings"].append(f"{entry.path}: cannot read ({exc.strerror or exc}); skipped")
        return None
    try:
        # The size is the walk's lstat (or the copy's); a later fstat that differs means it changed.
        size = os.fstat(fd).st_size if source else st.st_size
        first = os.read(fd, min(size, CHUNK))
        if source is None and first.startswith(SQLITE_MAGIC):
            return _add_sqlite(out, entry, state)
        header = (
            entry.name,
            tarfile.REGTYPE,
            st.st_mode & MODE_MASK,
            int(st.st_mtime),
            st.st_uid,
            st.st_gid,
            size,
        )
        digest, short = out.add_file(header, fd, first)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    _advance(state, size)
    record = _record(entry, "file", size=size, sha256=digest)
    if source is not None:
        record["sqlite_copy"] = True
    elif short or (after.st_size, after.st_mtime_ns, after.st_ino) != (size, st.st_mtime_ns, st.st_ino):
        state["warnings"].append(f"{entry.path}: changed while it was read; the archived copy may be torn")
        record["changed_while_read"] = True
    return record


def _add_sqlite(out, entry, state):
    copy = os.path.join(state["scratch"], f"db-{state['sqlite_copies']}")
    consistent_copy(entry.path, copy)
    state["sqlite_copies"] += 1
    return _add_file(out, entry, state, source=copy)


def _advance(state, size):
    state["done"] += size
    if state["progress"] is not None:
        state["progress"](state["done"], state["total"])

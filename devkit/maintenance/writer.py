"""Write the collected entries and their MANIFEST.json into one ``.tar.gz`` stream.

Each file is read once: hashed and compressed from the same chunks. A file that changes
while it is read is still stored (the archive stays valid) but reported and marked in the
manifest; a SQLite database is stored as a consistent copy taken through the online backup API.
"""

import json
import os
import stat
import tarfile

from devkit.maintenance.archive import MANIFEST_NAME, TarGzWriter
from devkit.maintenance.manifest import build_manifest
from devkit.store.copy import consistent_copy, is_sqlite

OUT_BUFFER = 1 << 20
# setuid/setgid bits are never archived: restore refuses them, so a backup never carries them.
MODE_MASK = 0o1777


def write_entries(handle, entries, now, sources, level, scratch, progress=None):
    """Write ``entries`` then the manifest to ``handle``; return counts, bytes and warnings."""
    out = TarGzWriter(handle, level)
    state = {"records": [], "warnings": [], "sqlite_copies": 0, "done": 0, "scratch": scratch,
             "total": sum(e.st.st_size for e in entries if stat.S_ISREG(e.st.st_mode)), "progress": progress}  # fmt: skip
    for entry in entries:
        record = _add(out, entry, state)
        if record is not None:
            state["records"].append(record)
    manifest = build_manifest(now, sources, state["records"])
    info = _info(MANIFEST_NAME, tarfile.REGTYPE, 0o644, int(now))
    out.add_bytes(info, json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    out.close()
    totals = manifest["totals"]
    return {"files": totals["files"], "entries": totals["entries"], "bytes": totals["bytes"],
            "sqlite_copies": state["sqlite_copies"], "warnings": state["warnings"], "level": level}  # fmt: skip


def _info(name, kind, mode, mtime, st=None):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, mtime
    if st is not None:
        info.uid, info.gid = st.st_uid, st.st_gid
    return info


def _record(entry, kind, **extra):
    st = entry.st
    record = {"path": entry.name, "type": kind, "mode": st.st_mode & MODE_MASK,
              "mtime": st.st_mtime, "mtime_ns": st.st_mtime_ns}  # fmt: skip
    record.update(extra)
    return record


def _add(out, entry, state):
    mode = entry.st.st_mode
    if stat.S_ISDIR(mode):
        out.add_header(_info(entry.name, tarfile.DIRTYPE, mode & MODE_MASK, int(entry.st.st_mtime), entry.st))
        return _record(entry, "dir")
    if stat.S_ISLNK(mode):
        target = os.readlink(entry.path)
        info = _info(entry.name, tarfile.SYMTYPE, 0o777, int(entry.st.st_mtime), entry.st)
        info.linkname = target
        out.add_header(info)
        return _record(entry, "symlink", target=target)
    if stat.S_ISREG(mode):
        return _add_file(out, entry, state)
    state["warnings"].append(f"{entry.path}: not a regular file, folder or symlink; skipped")
    return None


def _add_file(out, entry, state):
    try:
        source, copied = _readable_copy(entry, state)
        fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        state["warnings"].append(f"{entry.path}: disappeared before it was read; skipped")
        return None
    except OSError as exc:
        state["warnings"].append(f"{entry.path}: cannot read ({exc.strerror or exc}); skipped")
        return None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        before = os.fstat(fd)
        info = _info(
            entry.name, tarfile.REGTYPE, entry.st.st_mode & MODE_MASK, int(entry.st.st_mtime), entry.st
        )
        info.size = before.st_size
        digest, short = out.add_file(info, handle)
        after = os.fstat(fd)
    changed = bool(short) or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns)
    if changed and not copied:
        state["warnings"].append(f"{entry.path}: changed while it was read; the archived copy may be torn")
    _advance(state, info.size)
    extra = {"size": info.size, "sha256": digest}
    if copied:
        extra["sqlite_copy"] = True
    if changed and not copied:
        extra["changed_while_read"] = True
    return _record(entry, "file", **extra)


def _readable_copy(entry, state):
    if entry.st.st_size < 16 or not is_sqlite(entry.path):
        return entry.path, False
    target = os.path.join(state["scratch"], f"db-{state['sqlite_copies']}")
    consistent_copy(entry.path, target)
    state["sqlite_copies"] += 1
    return target, True


def _advance(state, size):
    state["done"] += size
    if state["progress"] is not None:
        state["progress"](state["done"], state["total"])

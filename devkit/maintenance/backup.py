"""Create, list and verify backups: ``<dest>/<project>-<UTC stamp>[-<label>].tar.gz`` with MANIFEST.json.

An archive is written under a temporary name, fsynced and renamed, so the folder holds
either no new backup or a complete one; the next run removes a crashed run's leftovers.
"""

import os
import shutil
import tempfile
import time

from devkit.config.schema import SECTIONS
from devkit.errors import OperationError, UsageError
from devkit.maintenance import writer as _writer
from devkit.maintenance.archive import LABEL, SUFFIX, TMP_PREFIX, archive_name, parse_name, remove_leftovers
from devkit.maintenance.manifest import file_identity, read_index, update_index
from devkit.maintenance.sources import collect
from devkit.maintenance.verify import verify_backup
from devkit.util.fs import fsync_dir
from devkit.util.lock import storage_lock

__all__ = [
    "create_backup",
    "list_backups",
    "verify_backup",
    "record_verification",
    "verify_backups",
    "find_backup",
]


def create_backup(
    sources, dest, root, project, now, state_dir, excludes=(), label=None, level=None, progress=None
):
    """Archive ``sources`` (named relative to ``root``) into ``dest``; return the summary dict.

    ``level`` defaults to the schema's ``backup.level``.

    ``progress(done_bytes, total_bytes)`` is called as data is read. Holds the storage lock.
    """
    if label is not None and not LABEL.match(label):
        raise UsageError(f"label {label!r}: use 1-40 letters, digits, '_' or '.'")
    level = SECTIONS["backup"]["level"].default if level is None else level
    if not 1 <= int(level) <= 9:
        raise UsageError(f"level {level!r}: must be 1 to 9")
    dest = os.path.abspath(dest)
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as exc:
        raise OperationError(f"cannot create backup folder {dest}: {exc.strerror or exc}") from None
    with storage_lock(state_dir, "backup"):
        leftovers = remove_leftovers(dest)
        entries = collect(sources, root, excludes, skip_dirs={dest})
        name = archive_name(project, now, label)
        if os.path.lexists(os.path.join(dest, name)):
            raise OperationError(f"{os.path.join(dest, name)}: already exists; try again in a moment")
        started = time.perf_counter()
        result = _write_archive(dest, name, entries, now, sources, level, progress)
        result["seconds"] = time.perf_counter() - started
        update_index(dest, name, files=result["files"], bytes=result["bytes"], created_ts=now)
    result["removed_leftovers"] = leftovers
    return result


def _write_archive(dest, name, entries, now, sources, level, progress):
    final = os.path.join(dest, name)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=SUFFIX, dir=dest)
    scratch = tempfile.mkdtemp(prefix=TMP_PREFIX + "sqlite-", dir=dest)
    try:
        with os.fdopen(fd, "wb", buffering=_writer.OUT_BUFFER) as handle:
            result = _writer.write_entries(handle, entries, now, sources, level, scratch, progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        fsync_dir(dest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if os.path.exists(tmp):
            os.unlink(tmp)
    result.update(name=name, path=final, compressed_bytes=os.path.getsize(final))
    result["ratio"] = round(result["compressed_bytes"] / result["bytes"], 4) if result["bytes"] else None
    return result


def list_backups(backup_dir):
    """Backups in ``backup_dir``, newest first: ``name, path, created_ts, files, size_bytes, verified``.

    ``verified`` is True/False from the last verify of this exact file, None when never verified.
    """
    try:
        names = [n for n in os.listdir(backup_dir) if parse_name(n) is not None]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OperationError(f"cannot list {backup_dir}: {exc.strerror or exc}") from None
    index = read_index(backup_dir)
    rows = []
    for name in names:
        path = os.path.join(backup_dir, name)
        try:
            identity = file_identity(path)
        except FileNotFoundError:
            continue
        record = index.get(name, {})
        verified = record.get("verified") or {}
        rows.append(
            {
                "name": name,
                "path": os.path.abspath(path),
                "created_ts": parse_name(name)["created_ts"],
                "files": record.get("files"),
                "size_bytes": identity[0],
                "verified": verified.get("ok") if verified.get("identity") == identity else None,
                "verified_at": verified.get("at") if verified.get("identity") == identity else None,
            }
        )
    rows.sort(key=lambda r: (r["created_ts"], r["name"]), reverse=True)
    return rows


def record_verification(result, now):
    """Remember a verify result beside the backup (valid while the file stays unchanged)."""
    path = result["path"]
    update_index(
        os.path.dirname(path),
        result["name"],
        verified={"ok": result["ok"], "at": now, "identity": file_identity(path)},
    )


def verify_backups(backup_dir, names, state_dir, now):
    """Verify each named backup (all when ``names`` is None) and remember the results; return them."""
    with storage_lock(state_dir, "verify"):
        paths = (
            [row["path"] for row in list_backups(backup_dir)]
            if names is None
            else [find_backup(backup_dir, name) for name in names]
        )
        results = []
        for path in paths:
            result = verify_backup(path)
            if parse_name(result["name"]) is not None and os.path.dirname(path) == os.path.abspath(
                backup_dir
            ):
                record_verification(result, now)
            results.append(result)
    return results


def find_backup(backup_dir, name):
    """The path of backup ``name`` (a name in ``backup_dir`` or a path); raise UsageError when absent."""
    for candidate in (name, os.path.join(backup_dir, name)):
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    raise UsageError(f"backup {name!r}: not found in {backup_dir}")

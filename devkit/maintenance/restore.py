"""Restore a backup: check the whole archive, plan against the target, then extract via staging.

Nothing is written until every member has passed the checks of ``safety``; the target must
be new or empty unless ``force`` is given, and then the plan lists what would change.
"""

import fnmatch
import os
import time

from devkit.config.schema import SECTIONS
from devkit.errors import OperationError, UsageError
from devkit.maintenance.archive import MANIFEST_NAME
from devkit.maintenance.extract import extract_into_place, member_key
from devkit.maintenance.manifest import parse_manifest
from devkit.maintenance.onepass import NeedsFullCheck, restore_in_one_pass
from devkit.maintenance.safety import ArchiveRefused, check_members, shown
from devkit.maintenance.verify import scan_archive
from devkit.util.lock import storage_lock


class TargetNotEmpty(UsageError):
    """The target holds files and ``force`` was not given; ``changes`` lists what would change."""

    def __init__(self, message, changes):
        super().__init__(message)
        self.changes = changes


def restore_backup(
    path, target, state_dir, only=(), dry_run=False, force=False, max_members=None, max_bytes=None
):
    """Restore backup ``path`` into ``target``; return the plan and counts. Holds the storage lock.

    The caps default to the schema's ``backup.max_members`` and ``backup.max_bytes``.
    """
    target = os.path.abspath(target)
    max_members = SECTIONS["backup"]["max_members"].default if max_members is None else max_members
    max_bytes = SECTIONS["backup"]["max_bytes"].default if max_bytes is None else max_bytes
    with storage_lock(state_dir, "restore"):
        if not dry_run and not only and not _occupied(target):
            summary = _one_pass(path, target, max_members, max_bytes)
            if summary is not None:
                return summary
        members, by_path = _checked(path, max_members, max_bytes)
        wanted = select(members, by_path, only)
        occupied = _occupied(target)
        summary = _summary(path, target, wanted, by_path, occupied, dict(dry_run=bool(dry_run)))
        if dry_run:
            return summary
        if occupied and not force:
            replaced = sum(1 for c in summary["changes"] if c["action"] == "replace")
            raise TargetNotEmpty(
                f"target {target}: not empty ({replaced} existing file(s) would be replaced)",
                summary["changes"],
            )
        started = time.perf_counter()
        checked = [member_key(m) for m in members]
        summary["written"] = extract_into_place(path, target, set(wanted), by_path, checked)
        summary["seconds"] = time.perf_counter() - started
    return summary


def _one_pass(path, target, max_members, max_bytes):
    """Restore into a new or empty target reading the archive once; None when it must be checked in full."""
    started = time.perf_counter()
    try:
        written, wanted, by_path = restore_in_one_pass(path, target, max_members, max_bytes)
    except NeedsFullCheck:
        return None
    return _summary(
        path, target, wanted, by_path, False, {"written": written, "seconds": time.perf_counter() - started}
    )


def _summary(path, target, wanted, by_path, occupied, extra):
    changes = (
        plan_changes(target, wanted, by_path)
        if occupied
        else [{"path": n, "action": "create"} for n in wanted]
    )
    summary = {
        "name": os.path.basename(path),
        "path": os.path.abspath(path),
        "target": target,
        "entries": len(wanted),
        "files": sum(1 for n in wanted if by_path[n]["type"] == "file"),
        "changes": changes,
        "target_was_empty": not occupied,
        "dry_run": False,
    }
    summary.update(extra)
    return summary


def _checked(path, max_members, max_bytes):
    members, _seen, manifest_bytes, problems = scan_archive(path, False, max_members, max_bytes)
    if problems:
        raise ArchiveRefused(problems[0], problems)
    if manifest_bytes is None:
        raise ArchiveRefused(f"{os.path.basename(path)}: refused: no {MANIFEST_NAME}, not a devkit backup")
    try:
        _manifest, by_path = parse_manifest(manifest_bytes)
    except ValueError as exc:
        raise ArchiveRefused(f"{os.path.basename(path)}: refused: {exc}") from None
    members = [m for m in members if not (m.name == MANIFEST_NAME and m.isfile())]
    problems = check_members(members, by_path, max_members, max_bytes)
    if problems:
        count = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ArchiveRefused(problems[0] + count, problems)
    return members, by_path


def select(members, by_path, only):
    """Names to restore, in archive order: all, or those matching a glob in ``only`` and their parents."""
    if not only:
        return [m.name for m in members]
    chosen = set()
    for member in members:
        parts = member.name.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatchcase(p, g) for p in prefixes for g in only):
            chosen.update(p for p in prefixes if p in by_path)
            if member.islnk():
                chosen.add(member.linkname)
    if not chosen:
        raise UsageError(f"only {', '.join(only)}: matches nothing in the backup")
    return [m.name for m in members if m.name in chosen]


def plan_changes(target, wanted, by_path):
    """``[{path, action}]`` with action create/replace/unchanged; raise when the target is in the way."""
    if not _occupied(target):
        return [{"path": name, "action": "create"} for name in wanted]
    changes, conflicts = [], []
    for name in wanted:
        entry, path = by_path[name], os.path.join(target, *name.split("/"))
        conflict = _parent_conflict(target, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        action, conflict = _action(entry, st, path) if conflict is None else (None, conflict)
        if conflict:
            conflicts.append(f"{shown(name)}: {conflict}")
        elif action != "keep":
            changes.append({"path": name, "action": action})
    if conflicts:
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise OperationError(f"target {target}: {conflicts[0]}{more}", exit_code=2)
    return changes


def _parent_conflict(target, name):
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        path = os.path.join(target, *parts[:depth])
        if os.path.islink(path):
            return f"{'/'.join(parts[:depth])} is a symlink in the target; restore does not write through it"
        if os.path.lexists(path) and not os.path.isdir(path):
            return f"{'/'.join(parts[:depth])} is a file in the target but a folder in the backup"
    return None


def _action(entry, st, path):
    import stat

    if st is None:
        return "create", None
    is_dir = stat.S_ISDIR(st.st_mode)
    if entry["type"] == "dir" and stat.S_ISLNK(st.st_mode):
        return None, "is a symlink in the target; restore does not write through it"
    if entry["type"] == "dir":
        return ("keep", None) if is_dir else (None, "is a file in the target but a folder in the backup")
    if is_dir:
        return None, "is a folder in the target but not in the backup"
    if entry["type"] == "symlink":
        same = stat.S_ISLNK(st.st_mode) and os.readlink(path) == entry.get("target")
    else:
        same = (
            entry["type"] == "file"
            and stat.S_ISREG(st.st_mode)
            and st.st_size == entry.get("size")
            and st.st_mtime_ns == entry.get("mtime_ns")
            and (st.st_mode & 0o1777) == entry.get("mode")
        )
    return ("unchanged" if same else "replace"), None


def _occupied(target):
    try:
        return bool(os.listdir(target))
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        raise UsageError(f"target {target}: is a file, not a folder") from None

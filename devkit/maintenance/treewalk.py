"""Tree walking and removal for cleanup: os.scandir, never follows a symlink, never leaves one filesystem.

A symlink is always looked at (and removed) as the link itself; a directory on another device
(a mount point) is never entered, and one met inside a unit blocks removing that unit.
"""

import os
import stat

KEEP_MARKER = ".keep"
MAX_DEPTH = 256


def stamp(st, age_by):
    """The timestamp ``st`` is aged by: its mtime, its ctime, or the newer of both."""
    if age_by == "mtime":
        return st.st_mtime
    if age_by == "ctime":
        return st.st_ctime
    return st.st_mtime if st.st_mtime > st.st_ctime else st.st_ctime


def summarize(path, age_by, cutoff_ts):
    """Newest stamp, size and file count of the tree at ``path`` (a file, link or folder).

    ``blocked`` names why it must not be removed whole (a .keep, another filesystem, too deep);
    the walk stops early once anything at or after ``cutoff_ts`` is seen (``fresh`` is then True).
    """
    top = os.lstat(path)
    info = {"newest_ts": stamp(top, age_by), "size_bytes": 0, "files": 0, "blocked": None, "fresh": False}
    if not stat.S_ISDIR(top.st_mode):
        info.update(size_bytes=top.st_size, files=1, fresh=info["newest_ts"] >= cutoff_ts)
        return info
    if top.st_dev != os.lstat(os.path.dirname(os.path.abspath(path))).st_dev:
        info["blocked"] = f"{path} is on another filesystem"
        return info
    stack = [(path, 0)]
    while stack and not info["blocked"] and not info["fresh"]:
        folder, depth = stack.pop()
        _visit(folder, depth, top.st_dev, age_by, cutoff_ts, info, stack)
    return info


def _visit(folder, depth, device, age_by, cutoff_ts, info, stack):
    if depth > MAX_DEPTH:
        info["blocked"] = f"nested deeper than {MAX_DEPTH} folders"
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name == KEEP_MARKER:
                info["blocked"] = f"protected by {os.path.join(folder, KEEP_MARKER)}"
                return
            st = entry.stat(follow_symlinks=False)
            when = stamp(st, age_by)
            if when > info["newest_ts"]:
                info["newest_ts"] = when
            if entry.is_dir(follow_symlinks=False):
                if st.st_dev != device:
                    info["blocked"] = f"{entry.path} is on another filesystem"
                    return
                stack.append((entry.path, depth + 1))
            else:
                info["size_bytes"] += st.st_size
                info["files"] += 1
    info["fresh"] = info["newest_ts"] >= cutoff_ts


def remove(path, failures):
    """Remove ``path`` (a link or file by unlink, a folder bottom-up); append each failure, never raise.

    Returns True when ``path`` is gone; a folder on another device than ``path`` is left alone.
    """
    try:
        top = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        failures.append(_failure(path, exc))
        return False
    if not stat.S_ISDIR(top.st_mode):
        return _unlink(path, failures)
    return _remove_folder(path, top.st_dev, failures, 0)


def _remove_folder(folder, device, failures, depth):
    clean = depth <= MAX_DEPTH
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        failures.append(_failure(folder, exc))
        return False
    for entry in entries if clean else ():
        if entry.is_dir(follow_symlinks=False):
            same = entry.stat(follow_symlinks=False).st_dev == device
            clean = (same and _remove_folder(entry.path, device, failures, depth + 1)) and clean
        else:
            clean = _unlink(entry.path, failures) and clean
    if not clean:
        return False
    try:
        os.rmdir(folder)
    except OSError as exc:
        failures.append(_failure(folder, exc))
        return False
    return True


def _unlink(path, failures):
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        failures.append(_failure(path, exc))
        return False
    return True


def _failure(path, exc):
    return {"path": path, "error": exc.strerror or str(exc)}


def usage(path):
    """``(bytes, files)`` under ``path``, links counted as themselves, one filesystem, never raising."""
    try:
        top = os.lstat(path)
    except OSError:
        return 0, 0
    if not stat.S_ISDIR(top.st_mode):
        return top.st_size, 1
    total, files, stack = 0, 0, [(path, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                for entry in it:
                    st = entry.stat(follow_symlinks=False)
                    if not entry.is_dir(follow_symlinks=False):
                        total, files = total + st.st_size, files + 1
                    elif st.st_dev == top.st_dev and depth < MAX_DEPTH:
                        stack.append((entry.path, depth + 1))
        except OSError:
            continue
    return total, files


def iter_files(root, match, limit):
    """Regular files under ``root`` whose name satisfies ``match``, sorted per folder, at most ``limit``.

    Links are skipped (never followed) and no other filesystem is entered.
    """
    try:
        device = os.lstat(root).st_dev
    except OSError:
        return
    stack, found = [(root, 0)], 0
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and match(entry.name):
                found += 1
                if found > limit:
                    return
                yield entry.path
            elif entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
                if entry.stat(follow_symlinks=False).st_dev == device:
                    stack.append((entry.path, depth + 1))

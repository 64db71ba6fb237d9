"""File-system helpers: atomic writes of regular files, never of devices, FIFOs or the store."""

import os
import re
import stat
import tempfile
import time

from devkit.errors import OperationError

TMP_PREFIX = ".tmp-"
STORE_FILE = "devkit.db"
STORE_FILES = (STORE_FILE, STORE_FILE + "-wal", STORE_FILE + "-shm", STORE_FILE + "-journal")
STALE_TMP_AGE_S = 3600.0
# What devkit itself writes beside the store: scheduled exports and the recorder's spill files.
EXPORT_PREFIXES = ("devkit-export-", "devkit-operations-", STORE_FILE + ".spill-")
_OUR_TMP = re.compile(r"^\.tmp-[A-Za-z0-9_]{8}$")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


def atomic_write(path, data, mode=0o644, sync=True):
    """Write ``data`` to ``path`` via temp file, fsync and rename; return the bytes written.

    ``data`` is str, bytes, or an iterable of str/bytes chunks (streamed, flat memory).
    ``sync=False`` leaves the fsyncs out: still all or nothing for a killed process, not after power loss.
    Readers see the old file or the whole new one, never a part; OSError becomes OperationError.
    Only a regular file (or nothing) is ever replaced: devices, FIFOs, sockets, directories,
    SQLite databases and the files of a devkit state directory are refused.
    """
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    check_write_target(path)
    try:
        os.makedirs(directory, exist_ok=True)
        remove_stale_temporaries(directory)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=directory)
    except OSError as exc:
        raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        written = _write_all(fd, [data] if isinstance(data, (str, bytes)) else data, sync)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    if sync:
        fsync_dir(directory)
    return written


def check_write_target(path):
    """Raise OperationError unless replacing ``path`` can only ever replace a plain user file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
    # A symbolic link is itself what os.replace swaps, never its target.
    if info is not None and not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "not a regular file")
        raise OperationError(f"refusing to write {path}: it is {kind}, not a regular file")
    if _in_state_dir(path) and not os.path.basename(path).startswith(EXPORT_PREFIXES):
        raise OperationError(
            f"refusing to write {path}: it is in devkit's state directory (the store's home)"
        )
    if info is not None and stat.S_ISREG(info.st_mode) and _is_sqlite(path):
        raise OperationError(f"refusing to write {path}: it is an SQLite database")


def _in_state_dir(path):
    store = os.path.join(os.path.dirname(path), STORE_FILE)
    return os.path.basename(path) in STORE_FILES or os.path.lexists(store)


def _is_sqlite(path):
    # O_NONBLOCK: should the path have become a FIFO since the lstat, opening it must not hang.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return os.read(fd, len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_stale_temporaries(directory, max_age_s=STALE_TMP_AGE_S, now=None):
    """Delete our own ``.tmp-XXXXXXXX`` files left by a killed write and untouched for ``max_age_s``.

    Only regular files owned by this user and named exactly as ``atomic_write`` names them;
    a write in progress keeps its temp file's mtime fresh. Returns the removed paths.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        names = [n for n in os.listdir(directory) if _OUR_TMP.match(n)]
    except OSError:
        return removed
    for name in names:
        candidate = os.path.join(directory, name)
        try:
            info = os.lstat(candidate)
        except OSError:
            continue
        mine = info.st_uid == _euid() and stat.S_ISREG(info.st_mode)
        if mine and now - info.st_mtime > max_age_s and _remove_quietly(candidate):
            removed.append(candidate)
    return removed


def _euid():
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _write_all(fd, chunks, sync=True):
    written = 0
    with os.fdopen(fd, "wb") as handle:
        for chunk in chunks:
            data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
            handle.write(data)
            written += len(data)
        handle.flush()
        if sync:
            os.fsync(handle.fileno())
    return written


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def fsync_dir(directory):
    """Make a rename or removal in ``directory`` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

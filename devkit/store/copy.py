"""The store's consistent copy: a SQLite database copied whole through the online backup API.

The copy is one snapshot even while other processes write (WAL or rollback journal), and
is self-contained (journal mode DELETE), so it can be archived and opened anywhere. On a Python
without sqlite3 a database with nothing in its write-ahead log is copied byte for byte instead.
"""

import os
import shutil

from devkit.errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30


def is_sqlite(path):
    """True when ``path`` is a file that starts with the SQLite 3 header."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def consistent_copy(source, target):
    """Copy the database ``source`` to the new file ``target`` as one snapshot; return its size."""
    try:
        import sqlite3
    except ImportError:
        return _plain_copy(source, target)
    try:
        src = sqlite3.connect(f"file:{_uri_path(source)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot open for copying: {exc}") from None
    try:
        dst = sqlite3.connect(target)
        try:
            # pages=-1: the whole database in one step, so no writer can slip in between pages.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: consistent copy failed: {exc}") from None
    finally:
        src.close()
    return os.path.getsize(target)


def _plain_copy(source, target):
    # Without sqlite3 only a database whose log is empty, and stays so while copied, is one snapshot.
    before = _state(source)
    if before[2]:
        raise StoreError(
            f"{source}: sqlite3 unavailable and the database has a write-ahead log; copy it"
            " with a Python that has sqlite3"
        )
    shutil.copyfile(source, target)
    if _state(source) != before:
        raise StoreError(f"{source}: changed while copied without sqlite3; try again")
    return os.path.getsize(target)


def _state(path):
    st = os.stat(path)
    wal = path + "-wal"
    return (st.st_size, st.st_mtime_ns, os.path.getsize(wal) if os.path.exists(wal) else 0)


def _uri_path(path):
    from urllib.parse import quote

    return quote(os.path.abspath(path))

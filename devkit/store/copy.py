"""The store's consistent copy: a SQLite database copied whole through the online backup API.

The copy is one snapshot even while other processes write (WAL or rollback journal), and
is self-contained (journal mode DELETE), so it can be archived and opened anywhere.
"""

import os
import sqlite3

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


def _uri_path(path):
    from urllib.parse import quote

    return quote(os.path.abspath(path))

"""What ingest remembers in the store: event ids already counted, and how far each file was read.

Both are written in the same transaction as the rows they cover, so a crash never counts an
event twice nor skips one. A file is known by its identity (device, inode) and checked by a
hash of its first bytes (up to HEAD_BYTES), so rotation, truncation and inode reuse are noticed.
"""

import hashlib
import os

from devkit.errors import LockBusyError

HEAD_BYTES = 1024
_ID_CHUNK = 500


class Cursor:
    """Where reading one file stands: identity, head hash, byte offset after the last line read, lines read."""

    __slots__ = ("dev", "ino", "path", "head", "head_len", "offset", "lineno", "stored")

    def __init__(self, dev, ino, path, head="", head_len=0, offset=0, lineno=0):
        self.dev, self.ino, self.path = dev, ino, path
        self.head, self.head_len, self.offset, self.lineno = head, head_len, offset, lineno
        # The offset the store holds for this file (None: none yet); a commit expects it unchanged.
        self.stored = offset if head_len else None


def head_hash(fd, length):
    """SHA-256 (hex) of the first ``length`` bytes of the open file ``fd`` (read with pread)."""
    return hashlib.sha256(os.pread(fd, length, 0)).hexdigest()


def seal(cursor, fd):
    """Refresh the cursor's head hash over what has been read (at most HEAD_BYTES)."""
    length = min(cursor.offset, HEAD_BYTES)
    if length != cursor.head_len:
        cursor.head, cursor.head_len = head_hash(fd, length), length
    return cursor


def resume(conn, path, fd):
    """The cursor for the open file ``fd`` at ``path``: where it was left, or its start when it is new,
    was truncated, or its inode now holds other content."""
    st = os.fstat(fd)
    row = conn.execute(
        "SELECT head, head_len, offset, lineno FROM sources WHERE dev = ? AND ino = ?", (st.st_dev, st.st_ino)
    ).fetchone()
    if row is None and st.st_size >= HEAD_BYTES:
        # A copy of a file read before (copytruncate rotation) carries on where its original was.
        row = conn.execute(
            "SELECT head, head_len, offset, lineno FROM sources WHERE head = ? AND head_len = ? ORDER BY ts DESC",
            (head_hash(fd, HEAD_BYTES), HEAD_BYTES),
        ).fetchone()
    cursor = Cursor(st.st_dev, st.st_ino, path)
    cursor.stored = _stored_offset(conn, cursor)
    if row is not None:
        head, head_len, offset, lineno = row
        if offset <= st.st_size and head_hash(fd, head_len) == head:
            cursor.head, cursor.head_len, cursor.offset, cursor.lineno = head, head_len, offset, lineno
    return cursor


def last_read(conn, path):
    """The cursor last committed for ``path`` (whatever file it was then), or None."""
    row = conn.execute(
        "SELECT dev, ino, path, head, head_len, offset, lineno FROM sources WHERE path = ? ORDER BY ts DESC",
        (path,),
    ).fetchone()
    return None if row is None else Cursor(*row)


def _stored_offset(conn, cursor):
    row = conn.execute(
        "SELECT offset FROM sources WHERE dev = ? AND ino = ?", (cursor.dev, cursor.ino)
    ).fetchone()
    return None if row is None else row[0]


def commit(conn, cursor, now):
    """Record ``cursor`` (inside the caller's transaction); LockBusyError when another ingest of the same
    file committed since this one read its offset (the transaction is then rolled back)."""
    if _stored_offset(conn, cursor) != cursor.stored:
        raise LockBusyError(f"{cursor.path}: another ingest of this file is running; nothing written from it")
    conn.execute(
        "INSERT OR REPLACE INTO sources (dev, ino, path, head, head_len, offset, lineno, ts) VALUES (?,?,?,?,?,?,?,?)",
        (
            cursor.dev,
            cursor.ino,
            cursor.path,
            cursor.head,
            cursor.head_len,
            cursor.offset,
            cursor.lineno,
            now,
        ),
    )


def unseen(conn, records, now):
    """``records`` minus those whose id was counted before (or earlier in ``records``); the new ids
    are remembered (inside the caller's transaction). Returns (kept, duplicates)."""
    given = [r.id for r in records if r.id is not None]
    if not given:
        return records, 0
    seen = set()
    for start in range(0, len(given), _ID_CHUNK):
        chunk = given[start : start + _ID_CHUNK]
        sql = f"SELECT id FROM seen_ids WHERE id IN ({','.join('?' * len(chunk))})"
        seen.update(row[0] for row in conn.execute(sql, chunk))
    kept, fresh = [], []
    for rec in records:
        if rec.id is not None:
            if rec.id in seen:
                continue
            seen.add(rec.id)
            fresh.append((rec.id, now))
        kept.append(rec)
    conn.executemany("INSERT INTO seen_ids (id, ts) VALUES (?, ?)", fresh)
    return kept, len(records) - len(kept)


def prune(conn, cutoff):
    """Forget ids counted before ``cutoff`` and files not read since then."""
    conn.execute("DELETE FROM seen_ids WHERE ts < ?", (cutoff,))
    conn.execute("DELETE FROM sources WHERE ts < ?", (cutoff,))

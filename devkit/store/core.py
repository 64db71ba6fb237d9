"""The Store: one SQLite file that many processes write and any reader queries."""

import contextlib
import json
import os
import sqlite3
import threading
import time

from devkit.config.schema import SECTIONS
from devkit.errors import StoreError
from devkit.store import reader, sources, spill, writer
from devkit.store.codec import merge_blobs
from devkit.store.schema import BUSY_TIMEOUT_MS, connect, immediate

DEFAULT_RETENTION_DAYS = float(SECTIONS["metrics"]["retention_days"].default)
RESET_CHUNK = 20000
# Present in meta while a reset is still deleting raw rows of older epochs.
_OLD_ROWS_KEY = "old_operations"
# Per path, when this process may next try to prune: short-lived Store objects (one per flush) share it.
_NEXT_PRUNE_CHECK = {}


class Store:
    """Metrics store at ``path``; ``prices(model, prompt, completion)`` fills missing costs.

    All methods are thread-safe (one connection behind a re-entrant lock). ``readonly`` opens an
    existing file for reading only: nothing is created, migrated or written.
    """

    def __init__(
        self,
        path,
        prices=None,
        retention_days=DEFAULT_RETENTION_DAYS,
        clock=time.time,
        readonly=False,
        busy_timeout_s=BUSY_TIMEOUT_MS / 1000.0,
        max_series=None,
    ):
        self.max_series = max_series
        self.path = os.path.abspath(os.fspath(path))
        self.prices = prices
        self.retention_days = float(retention_days)
        self.clock = clock
        self._lock = threading.RLock()
        self._conn = _open(self.path, readonly, busy_timeout_s)

    def close(self):
        """Close the connection (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def conn(self):
        """The open sqlite3 connection (raises StoreError after close)."""
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._conn

    def write_batch(self, batch, deadline=None, spill_name=None, cursor=None, stats=None):
        """Write ``batch`` in one transaction (pruning at most once a minute); return its reset epoch.

        ``deadline`` (``time.monotonic()``) bounds the wait for another writer's lock; an ingest
        ``cursor`` is committed with the batch; ``stats["duplicates"]`` counts events left out as seen.
        """
        if not batch and cursor is None:
            return None
        now = self.clock()
        with self._lock, _errors(self.path, "write"):
            epoch = writer.write(
                self.conn, batch, self.prices, now, deadline, spill_name, cursor, stats, self.max_series
            )
        if now >= _NEXT_PRUNE_CHECK.get(self.path, 0.0):
            _NEXT_PRUNE_CHECK[self.path] = now + writer.PRUNE_EVERY_S
            # The batch is committed: a busy store only postpones pruning, it must not fail the write.
            with self._lock, _errors(self.path, "prune"), contextlib.suppress(sqlite3.OperationalError):
                writer.prune(self.conn, now, self.retention_days, os.path.dirname(self.path))
        return epoch

    def file_cursor(self, path, fd=None):
        """Where ingest stands in the open file ``fd`` (see store.sources.resume); without ``fd``,
        the cursor last committed for ``path`` whatever file it was, or None."""
        with self._lock, _errors(self.path, "read"):
            return sources.last_read(self.conn, path) if fd is None else sources.resume(self.conn, path, fd)

    def take_spills(self, deadline=None):
        """Write every spill file waiting beside the store, each exactly once; return how many."""
        taken = 0
        for path in spill.spill_paths(self.path):
            try:
                batch = spill.read_spill(path)
            except (OSError, ValueError, KeyError, TypeError):
                continue  # half-written by a process still exiting, or not ours: left for a later writer
            self.write_batch(batch, deadline, spill_name=os.path.basename(path))
            with contextlib.suppress(OSError):
                os.remove(path)
            taken += 1
        return taken

    def prune(self, now=None):
        """Prune now (unless another process did within the last minute); True when it ran."""
        with self._lock, _errors(self.path, "prune"):
            now = self.clock() if now is None else now
            return writer.prune(self.conn, now, self.retention_days, os.path.dirname(self.path))

    @contextlib.contextmanager
    def read_transaction(self):
        """Hold one read snapshot so several queries see the same data."""
        with self._lock, _errors(self.path, "read"):
            self.conn.execute("BEGIN")
            try:
                self.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
                yield self
            finally:
                self.conn.execute("COMMIT")

    def _epoch(self):
        return writer.current_epoch(self.conn)

    def breakdown(self, since_ts=None):
        """One dict per (operation, model, status): sums, a latency Sketch (seconds), created_ts and last_ts."""
        with self._lock, _errors(self.path, "read"):
            return reader.breakdown(reader.aggregate_rows(self.conn, self._epoch(), since_ts, self.clock()))

    def totals(self, since_ts=None):
        """Requests, errors, tokens, cost, cache hits/misses, first_ts and last_ts."""
        with self._lock, _errors(self.path, "read"):
            rows = reader.aggregate_rows(self.conn, self._epoch(), since_ts, self.clock())
            return reader.totals(reader.breakdown(rows))

    def history(self, resolution_s, since_ts, until_ts=None):
        """Points ``{ts, requests, errors, tokens, cost, p50_ms, p95_ms, p99_ms}`` per bucket."""
        if resolution_s not in (10, 60, 3600):
            raise StoreError(f"history: resolution_s must be 10, 60 or 3600, got {resolution_s!r}")
        with self._lock, _errors(self.path, "read"):
            return reader.history(self.conn, self._epoch(), resolution_s, since_ts, until_ts)

    def windows(self, now=None):
        """Rates and percentiles for the last 1m/5m/15m/1h."""
        with self._lock, _errors(self.path, "read"):
            return reader.windows(self.conn, self._epoch(), self.clock() if now is None else now)

    def recent(self, limit=100, since_ts=None):
        """The newest ``limit`` operations as dicts, newest first."""
        with self._lock, _errors(self.path, "read"):
            return reader.recent(self.conn, self._epoch(), limit, since_ts)

    def iter_operations(self, since_ts=None):
        """Operation dicts oldest first, streamed page by page."""
        with self._lock, _errors(self.path, "read"):
            epoch = self._epoch()
        pages = reader.iter_operations(self.conn, epoch, since_ts)
        while True:
            with self._lock, _errors(self.path, "read"):
                op = next(pages, None)
            if op is None:
                return
            yield op

    def error_types(self, since_ts=None, limit=10, newest=20000):
        """The most frequent error type names among the ``newest`` kept operations: [(name or None, count)]."""
        with self._lock, _errors(self.path, "read"):
            return reader.error_types(self.conn, self._epoch(), since_ts, limit, newest)

    def instruments(self):
        """User instrument series: name, kind, help, labels, value, sketch, created_ts."""
        with self._lock, _errors(self.path, "read"):
            return reader.instruments(self.conn, self._epoch())

    def reset(self):
        """Start a new epoch: readers see zeros; anything written after this counts."""
        now = self.clock()
        with self._lock, _errors(self.path, "reset"):
            _in_transaction(self.conn, _reset_sql, now)
            # Old raw rows go in short transactions so live writers never wait long.
            while _in_transaction(self.conn, _drop_old_operations, RESET_CHUNK):
                pass

    @property
    def reset_ts(self):
        """When the last reset happened, or None."""
        with self._lock, _errors(self.path, "read"):
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'reset_ts'").fetchone()
        return float(row[0]) if row else None

    def save_health(self, report):
        """Keep ``report`` (a JSON-ready dict) as the last health result."""
        data = json.dumps(report, default=str)
        with self._lock, _errors(self.path, "write"):
            self.conn.execute(
                "INSERT OR REPLACE INTO health (id, ts, report) VALUES (1, ?, ?)", (self.clock(), data)
            )

    def last_health(self):
        """The last saved health report, or None."""
        with self._lock, _errors(self.path, "read"):
            row = self.conn.execute("SELECT report FROM health WHERE id = 1").fetchone()
        return json.loads(row[0]) if row else None

    def info(self):
        """Path, size on disk (with -wal), raw operations kept, raw rows not kept under overload,
        bad records dropped, operations folded into ``__overflow__``, and spill files waiting."""
        with self._lock, _errors(self.path, "read"):
            count = _count_operations(self.conn, self._epoch())
            not_kept = writer.read_counter(self.conn, "operations_not_kept")
            dropped = writer.read_counter(self.conn, "records_dropped")
            overflowed = writer.read_counter(self.conn, "series_overflowed")
        size = sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))
        return {
            "path": self.path,
            "size_bytes": size,
            "operations": count,
            "exists": True,
            "operations_not_kept": not_kept,
            "records_dropped": dropped,
            "series_overflowed": overflowed,
            "spills_pending": len(spill.spill_paths(self.path)),
        }


def _reset_sql(conn, now):
    epoch = writer.current_epoch(conn) + 1
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('epoch', ?)", (str(epoch),))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('reset_ts', ?)", (repr(now),))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", (_OLD_ROWS_KEY,))
    for table in ("aggregates", "instruments"):
        conn.execute(f"DELETE FROM {table} WHERE epoch < ?", (epoch,))
    # After a reset everything counts anew: files are read again from the start, ids count once more.
    conn.execute("DELETE FROM seen_ids")
    conn.execute("DELETE FROM sources")


def _count_operations(conn, epoch):
    # A bare count(*) is several times faster; rows of older epochs only linger during a reset.
    if conn.execute("SELECT 1 FROM meta WHERE key = ?", (_OLD_ROWS_KEY,)).fetchone() is None:
        return conn.execute("SELECT count(*) FROM operations").fetchone()[0]
    return conn.execute("SELECT count(*) FROM operations WHERE epoch = ?", (epoch,)).fetchone()[0]


def _drop_old_operations(conn, limit):
    epoch = writer.current_epoch(conn)
    sql = "DELETE FROM operations WHERE (ts, seq) IN (SELECT ts, seq FROM operations WHERE epoch < ? LIMIT ?)"
    dropped = conn.execute(sql, (epoch, limit)).rowcount
    if not dropped:
        conn.execute("DELETE FROM meta WHERE key = ?", (_OLD_ROWS_KEY,))
    return dropped


def _in_transaction(conn, func, *args):
    with immediate(conn):
        return func(conn, *args)


def _open(path, readonly=False, busy_timeout_s=BUSY_TIMEOUT_MS / 1000.0):
    if readonly:
        return _open_readonly(path)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        for attempt in range(5):
            try:
                conn = connect(path, busy_timeout_s)
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc).lower() or attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))
        conn.create_function("devkit_merge", 2, merge_blobs)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"{path}: cannot open the metrics store: {exc}") from exc
    return _validated(conn, path)


def _open_readonly(path):
    if not os.path.isfile(path):
        raise StoreError(f"{path}: no metrics store here")
    try:
        conn = reader.connect_readonly(path)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the metrics store: {exc}") from exc
    return _validated(conn, path)


def _validated(conn, path):
    try:
        problem = reader.problem(conn)
    except sqlite3.Error as exc:
        problem = str(exc)
    if problem:
        conn.close()
        raise StoreError(f"{path}: not a usable metrics store: {problem}")
    return conn


@contextlib.contextmanager
def _errors(path, action):
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot {action} the metrics store: {exc}") from exc

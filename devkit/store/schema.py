"""The SQLite schema of the metrics store, its version and the connection settings.

Aggregates are kept at four resolutions: 10 s and 60 s buckets feed windows and
charts, hourly buckets answer long ``--since`` spans, and resolution 0 holds one
running total per (epoch, operation, model, status) so "everything since the
last reset" is a handful of rows whatever the store's size.
"""

import contextlib
import sqlite3

from devkit.core.rollup import RES_TOTAL, STREAM_DISTS

# Version 2: raw operations keep one index (ts) instead of two; spill files taken in are remembered.
# Version 3: raw operations are one b-tree keyed by (ts, seq), no index beside it, and keep no made-up ids;
# ingested event ids are remembered (counted once) and so is how far each ingested file was read; cached and
# reasoning token sums, time-to-first-token, time-per-chunk and tokens/s sketches.
SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30000
# How long each resolution's rows live (seconds); totals live until the next reset.
AGG_RETENTION_S = {10: 2 * 3600, 60: 30 * 86400, 3600: 400 * 86400}

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS operations (
    ts REAL NOT NULL, seq INTEGER NOT NULL, epoch INTEGER NOT NULL, id TEXT,
    operation TEXT NOT NULL, model TEXT, status TEXT NOT NULL, duration_ms REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cache_hit INTEGER,
    cost REAL NOT NULL, error TEXT, detail TEXT, labels TEXT{ops_v3},
    PRIMARY KEY (ts, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aggregates (
    epoch INTEGER NOT NULL, res INTEGER NOT NULL, bucket INTEGER NOT NULL,
    operation TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
    count INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL, cache_hits INTEGER NOT NULL, cache_misses INTEGER NOT NULL,
    dur_sum REAL NOT NULL, dur_min REAL NOT NULL, dur_max REAL NOT NULL, sketch BLOB NOT NULL,
    created_ts REAL NOT NULL, last_ts REAL NOT NULL{aggs_v3},
    PRIMARY KEY (epoch, res, bucket, operation, model, status)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aggregates_res_bucket ON aggregates (res, bucket);
CREATE TABLE IF NOT EXISTS instruments (
    epoch INTEGER NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL, kind TEXT NOT NULL,
    help TEXT NOT NULL, value REAL NOT NULL, sketch BLOB, dur_sum REAL, dur_min REAL, dur_max REAL,
    count INTEGER, created_ts REAL NOT NULL, updated_ts REAL NOT NULL,
    PRIMARY KEY (epoch, name, labels)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS seen_ids (id TEXT PRIMARY KEY, ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sources (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL, head TEXT NOT NULL,
    head_len INTEGER NOT NULL, offset INTEGER NOT NULL, lineno INTEGER NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (dev, ino)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spills (name TEXT PRIMARY KEY, ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY CHECK (id = 1), ts REAL, report TEXT);
"""

# Columns version 3 added (ALTER TABLE adds them to older stores): (table, name, declaration).
V3_COLUMNS = [
    ("operations", "cached_prompt_tokens", "INTEGER NOT NULL DEFAULT 0"),
    ("operations", "reasoning_tokens", "INTEGER NOT NULL DEFAULT 0"),
    ("operations", "ttft_ms", "REAL"),
    ("operations", "chunks", "INTEGER"),
    ("aggregates", "cached_prompt_tokens", "INTEGER NOT NULL DEFAULT 0"),
    ("aggregates", "reasoning_tokens", "INTEGER NOT NULL DEFAULT 0"),
]
for _name in STREAM_DISTS:
    V3_COLUMNS += [
        ("aggregates", f"{_name}_sketch", "BLOB"),
        ("aggregates", f"{_name}_count", "INTEGER NOT NULL DEFAULT 0"),
        ("aggregates", f"{_name}_sum", "REAL NOT NULL DEFAULT 0"),
        ("aggregates", f"{_name}_min", "REAL"),
        ("aggregates", f"{_name}_max", "REAL"),
    ]
_DDL = _DDL.format(
    **{
        key: "".join(f", {n} {d}" for t, n, d in V3_COLUMNS if t == table)
        for key, table in (("ops_v3", "operations"), ("aggs_v3", "aggregates"))
    }
)


def connect(path, busy_timeout_s=BUSY_TIMEOUT_MS / 1000.0):
    """Open ``path`` in autocommit mode with WAL, a busy timeout and the current schema."""
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def immediate(conn):
    """One ``BEGIN IMMEDIATE`` transaction: commit when the block ends, roll back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate(conn):
    """Create or upgrade the schema; ``PRAGMA user_version`` records where a file is."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    with immediate(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this devkit ({SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            if version:
                _rekey_operations(conn)
            for statement in _DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            _add_columns(conn)
            if version:
                _copy_operations(conn)
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('epoch', '0')")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


_OLD_OPERATIONS = "operations_before_v3"


def table_columns(conn, table):
    """The column names of ``table`` in the open store."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_columns(conn):
    have = {table: table_columns(conn, table) for table in ("operations", "aggregates")}
    for table, name, declaration in V3_COLUMNS:
        if name not in have[table]:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


def _rekey_operations(conn):
    """Versions 1-2 kept raw operations in a rowid table plus ts index(es): move it aside for the copy."""
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'operations'"
    ).fetchone()
    if sql is not None and "WITHOUT ROWID" not in sql[0].upper():
        conn.execute(f"ALTER TABLE operations RENAME TO {_OLD_OPERATIONS}")


def _copy_operations(conn):
    """Copy the moved-aside rows into the (ts, seq) table; the next seq continues after the old ones."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (_OLD_OPERATIONS,)).fetchone():
        return
    shared = table_columns(conn, "operations") & table_columns(conn, _OLD_OPERATIONS)
    columns = ", ".join(sorted(shared))
    conn.execute(f"INSERT INTO operations ({columns}) SELECT {columns} FROM {_OLD_OPERATIONS}")
    conn.execute(
        f"INSERT OR REPLACE INTO meta (key, value) SELECT 'next_seq', coalesce(max(seq), 0) + 1"
        f" FROM {_OLD_OPERATIONS}"
    )
    conn.execute(f"DROP TABLE {_OLD_OPERATIONS}")

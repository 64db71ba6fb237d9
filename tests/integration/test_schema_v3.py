"""A version-2 store (before the LLM columns): readers use it as it is, the next writer upgrades it in place."""

import sqlite3

from devkit.core.records import Batch
from devkit.core.rollup import fold
from devkit.store import Store
from devkit.store.schema import SCHEMA_VERSION
from tests.integration._store_helpers import record

NOW = 1_780_000_000.0
V2_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE operations (seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, id TEXT, ts REAL NOT NULL,
    operation TEXT NOT NULL, model TEXT, status TEXT NOT NULL, duration_ms REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cache_hit INTEGER,
    cost REAL NOT NULL, error TEXT, detail TEXT, labels TEXT);
CREATE INDEX operations_ts ON operations (ts);
CREATE TABLE aggregates (epoch INTEGER NOT NULL, res INTEGER NOT NULL, bucket INTEGER NOT NULL,
    operation TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL,
    count INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    cost REAL NOT NULL, cache_hits INTEGER NOT NULL, cache_misses INTEGER NOT NULL,
    dur_sum REAL NOT NULL, dur_min REAL NOT NULL, dur_max REAL NOT NULL, sketch BLOB NOT NULL,
    created_ts REAL NOT NULL, last_ts REAL NOT NULL,
    PRIMARY KEY (epoch, res, bucket, operation, model, status)) WITHOUT ROWID;
CREATE TABLE instruments (epoch INTEGER NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL, kind TEXT NOT NULL,
    help TEXT NOT NULL, value REAL NOT NULL, sketch BLOB, dur_sum REAL, dur_min REAL, dur_max REAL,
    count INTEGER, created_ts REAL NOT NULL, updated_ts REAL NOT NULL, PRIMARY KEY (epoch, name, labels)) WITHOUT ROWID;
CREATE TABLE spills (name TEXT PRIMARY KEY, ts REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), ts REAL, report TEXT);
INSERT INTO meta VALUES ('epoch', '0');
INSERT INTO operations VALUES (1, 0, 'old1', 1779999000.0, 'chat', 'm', 'ok', 12.0, 3, 4, NULL, 0.0, NULL, NULL, NULL);
INSERT INTO aggregates VALUES (0, 0, 0, 'chat', 'm', 'ok', 1, 3, 4, 0.0, 0, 0, 0.012, 0.012, 0.012, x'', 1779999000.0,
    1779999000.0);
PRAGMA user_version = 2;
"""


def _v2_store(tmp_path):
    db = tmp_path / "devkit.db"
    conn = sqlite3.connect(str(db))
    conn.executescript(V2_DDL)
    conn.close()
    return db


def test_a_version_2_store_reads_as_it_is_with_zero_llm_fields(tmp_path):
    db = _v2_store(tmp_path)
    with Store(db, readonly=True, clock=lambda: NOW) as store:
        (group,) = store.breakdown()
        (op,) = store.recent(10)
    assert (
        group["count"],
        group["cached_prompt_tokens"],
        group["reasoning_tokens"],
        group["ttft"].count,
    ) == (1, 0, 0, 0)
    assert (op["id"], op["cached_prompt_tokens"], op["ttft_ms"], op["chunks"]) == ("old1", 0, None, None)
    conn = sqlite3.connect(str(db))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_the_next_writer_upgrades_a_version_2_store_and_adds_to_its_sums(tmp_path):
    db = _v2_store(tmp_path)
    streamed = record(
        2,
        NOW - 5,
        model="m",
        duration_ms=900.0,
        prompt=10,
        completion=31,
        cached_prompt_tokens=4,
        reasoning_tokens=2,
        ttft_ms=300.0,
        chunks=31,
    )
    with Store(db, clock=lambda: NOW) as store:
        store.write_batch(Batch([streamed]))
        (group,) = store.breakdown()
        assert [op["id"] for op in store.recent(10)] == ["r2", "old1"]
    assert (
        group["count"],
        group["prompt_tokens"],
        group["cached_prompt_tokens"],
        group["reasoning_tokens"],
    ) == (2, 13, 4, 2)
    assert group["ttft"].count == 1 and abs(group["ttft"].quantile(0.5) - 0.3) < 0.3 * 0.01
    assert abs(group["tps"].quantile(0.5) - 30 / 0.6) < 50 * 0.01
    conn = sqlite3.connect(str(db))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()


def _series(ts, seconds, cached=0, ttft_s=None):
    groups = {}
    agg = fold(groups, ts, "chat", "m", "ok", seconds, 5, 7, None, 0.0)
    if cached or ttft_s is not None:
        agg.add_llm(cached, 0, None if ttft_s is None else (ttft_s, None, None))
    return Batch(aggregates=groups)


def test_plain_and_llm_rows_of_one_series_add_up_in_either_order(tmp_path):
    # Rows without LLM values take a shorter upsert: it must neither drop nor reset the LLM sums.
    for order in ((0.2, 0.05), (None, 0.2), (0.2, None)):
        with Store(str(tmp_path / f"order-{order}.db")) as store:
            for i, ttft in enumerate(order):
                store.write_batch(_series(NOW - 30 + i, 0.5, cached=3 if ttft else 0, ttft_s=ttft))
            (row,) = store.breakdown()
        streamed = [t for t in order if t is not None]
        assert (row["count"], row["prompt_tokens"], row["cached_prompt_tokens"]) == (2, 10, 3 * len(streamed))
        sketch = row["ttft"]
        assert (sketch.count if sketch else 0) == len(streamed)
        if streamed:
            assert (sketch.min, sketch.max) == (min(streamed), max(streamed))

"""The SQLite store through its public API: exact sums, windows, recent, reset, retention, files."""

import os
import sqlite3

import pytest

from devkit.core.records import Batch, InstrumentDelta
from devkit.core.sketch import Sketch
from devkit.errors import StoreError
from devkit.snapshot import merged_latency
from devkit.store import Store
from devkit.store.schema import SCHEMA_VERSION
from tests.integration._store_helpers import batch_of, record

NOW = 1_800_000_000.0


class Clock:
    """A settable clock for the store."""

    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    with Store(tmp_path / "state" / "devkit.db", prices=lambda m, p, c: (p + c) / 1000.0, clock=clock) as s:
        yield s


def test_totals_are_exact_and_costs_come_from_prices(store):
    store.write_batch(batch_of(0, 30, NOW - 5, prompt=3, completion=4, cache_hit=True))
    store.write_batch(
        batch_of(30, 10, NOW - 5, status="error", model=None, prompt=1, completion=0, cache_hit=False)
    )
    store.write_batch(Batch([record(99, NOW - 5, cost=2.5)]))
    totals = store.totals()
    assert {
        k: totals[k] for k in ("requests", "errors", "prompt_tokens", "completion_tokens", "total_tokens")
    } == {"requests": 41, "errors": 10, "prompt_tokens": 101, "completion_tokens": 122, "total_tokens": 223}
    assert (totals["cache_hits"], totals["cache_misses"]) == (30, 10)
    assert totals["cost"] == pytest.approx(30 * 0.007 + 10 * 0.001 + 2.5)


def test_breakdown_keeps_none_models_as_none_and_latency_is_accurate(store):
    store.write_batch(Batch([record(i, NOW - 1, duration_ms=float(i + 1)) for i in range(1000)]))
    store.write_batch(batch_of(2000, 5, NOW - 1, model=None, operation="embed"))
    keys = [(g["operation"], g["model"], g["status"], g["count"]) for g in store.breakdown()]
    assert keys == [("chat", "llama3", "ok", 1000), ("embed", None, "ok", 5)]
    groups = store.breakdown()
    sketch = merged_latency([g for g in groups if g["operation"] == "chat"])
    assert sketch.count == 1000 and sketch.min == pytest.approx(0.001) and sketch.max == pytest.approx(1.0)
    assert sketch.quantile(0.5) == pytest.approx(0.5, rel=0.01)
    assert sketch.quantile(0.99) == pytest.approx(0.99, rel=0.01)
    assert merged_latency([g for g in groups if g["model"] == "nope"]).count == 0


def test_since_filters_by_time_at_every_resolution(store):
    ages = {"30s": 30, "10m": 600, "3h": 3 * 3600, "3d": 3 * 86400, "40d": 40 * 86400}
    for n, age in enumerate(ages.values()):
        store.write_batch(batch_of(n * 100, n + 1, NOW - age))
    assert store.totals()["requests"] == 15
    assert store.totals(NOW - 60)["requests"] == 1
    assert store.totals(NOW - 3600)["requests"] == 3
    assert store.totals(NOW - 86400)["requests"] == 6
    assert store.totals(NOW - 7 * 86400)["requests"] == 10
    assert store.totals(NOW + 60)["requests"] == 0


def test_windows_and_history(store):
    store.write_batch(batch_of(0, 6, NOW - 30, duration_ms=100.0))
    store.write_batch(batch_of(10, 4, NOW - 1200, status="error", duration_ms=300.0))
    windows = store.windows(NOW)
    assert windows["1m"] == {
        "requests": 6,
        "errors": 0,
        "rate_per_min": 6.0,
        "p50_ms": pytest.approx(100, rel=0.01),
        "p95_ms": pytest.approx(100, rel=0.01),
        "p99_ms": pytest.approx(100, rel=0.01),
    }
    assert (windows["15m"]["requests"], windows["1h"]["requests"], windows["1h"]["errors"]) == (6, 10, 4)
    points = store.history(60, NOW - 3600, NOW)
    assert len(points) == 61 and sum(p["requests"] for p in points) == 10
    assert [p["ts"] for p in points] == sorted(p["ts"] for p in points)
    busy = [p for p in points if p["requests"]]
    assert [(p["requests"], p["errors"]) for p in busy] == [(4, 4), (6, 0)]
    with pytest.raises(StoreError, match="resolution_s"):
        store.history(7, NOW - 60)


def test_recent_is_newest_first_and_iter_operations_streams_oldest_first(store):
    store.write_batch(Batch([record(i, NOW - 100 + i) for i in range(50)]))
    store.write_batch(Batch([record(77, NOW, cache_hit=False)]))
    recent = store.recent(3)
    assert [op["id"] for op in recent] == ["r77", "r49", "r48"]
    assert recent[0]["cache_hit"] is False and recent[0]["model"] == "llama3"
    assert [op["id"] for op in store.recent(100, since_ts=NOW - 52)] == ["r77", "r49", "r48"]
    ids = [op["id"] for op in store.iter_operations()]
    assert ids == [f"r{i}" for i in range(50)] + ["r77"]
    assert [op["id"] for op in store.iter_operations(since_ts=NOW - 52)] == ["r48", "r49", "r77"]


def test_iter_operations_pages_through_equal_timestamps(store):
    store.write_batch(batch_of(0, 4500, NOW))
    ids = [op["id"] for op in store.iter_operations()]
    assert len(ids) == 4500 and len(set(ids)) == 4500


def test_instruments_add_counters_keep_last_gauge_and_merge_histograms(store):
    first, second = Sketch(), Sketch()
    first.add(0.1)
    second.add(0.3, times=2)
    store.write_batch(
        Batch(
            [],
            [
                InstrumentDelta("hits", "counter", "Hits.", (("route", "/a"),), 2.0),
                InstrumentDelta("temp", "gauge", "", (), 5.0),
                InstrumentDelta("lat", "histogram", "", (), 0.0, first),
            ],
        )
    )
    store.write_batch(
        Batch(
            [],
            [
                InstrumentDelta("hits", "counter", "", (("route", "/a"),), 3.0),
                InstrumentDelta("temp", "gauge", "", (), 1.0),
                InstrumentDelta("lat", "histogram", "", (), 0.0, second),
            ],
        )
    )
    got = {i["name"]: i for i in store.instruments()}
    assert (got["hits"]["value"], got["hits"]["labels"], got["hits"]["help"]) == (
        5.0,
        {"route": "/a"},
        "Hits.",
    )
    assert got["temp"]["value"] == 1.0 and got["temp"]["sketch"] is None
    lat = got["lat"]["sketch"]
    assert (lat.count, lat.min, lat.max, lat.sum) == (3, 0.1, 0.3, pytest.approx(0.7))


def test_reset_zeroes_readers_and_counts_everything_written_after(store, clock):
    store.write_batch(batch_of(0, 10, NOW - 10))
    store.write_batch(Batch([], [InstrumentDelta("hits", "counter", "", (), 4.0)]))
    clock.now = NOW + 1
    store.reset()
    assert store.reset_ts == NOW + 1
    assert store.totals()["requests"] == 0 and store.recent() == [] and store.instruments() == []
    store.write_batch(batch_of(10, 3, NOW - 5))  # recorded before the reset, flushed after: still counted
    store.write_batch(batch_of(20, 2, NOW + 2))
    assert store.totals()["requests"] == 5
    assert len(list(store.iter_operations())) == 5


def test_reset_from_another_connection_is_seen_by_an_open_writer(tmp_path):
    path = tmp_path / "devkit.db"
    with Store(path) as writer, Store(path) as admin:
        writer.write_batch(batch_of(0, 5, NOW))
        admin.reset()
        writer.write_batch(batch_of(5, 2, NOW))
        assert admin.totals()["requests"] == 2 and writer.totals()["requests"] == 2


def test_retention_prunes_old_operations_and_fine_aggregates_but_keeps_totals(tmp_path, clock):
    with Store(tmp_path / "devkit.db", retention_days=1, clock=clock) as store:
        store.write_batch(batch_of(0, 5, NOW - 3 * 86400))
        store.write_batch(batch_of(5, 2, NOW - 10))
        assert store.info()["operations"] == 2  # the first write pruned the old rows
        assert store.totals()["requests"] == 7
        assert store.totals(NOW - 86400)["requests"] == 2
        clock.now = NOW + 30
        store.write_batch(batch_of(10, 1, NOW - 5 * 86400))
        assert store.info()["operations"] == 3  # pruning runs at most once a minute
        clock.now = NOW + 120
        assert store.prune() is True and store.info()["operations"] == 2
        rows = store.conn.execute("SELECT count(*) FROM aggregates WHERE res = 10").fetchone()[0]
        assert rows == 1


def test_health_round_trip_and_info(store):
    assert store.last_health() is None
    store.save_health({"status": "pass", "checks": {}})
    store.save_health({"status": "fail", "checks": {"model:llama3": [{"status": "fail"}]}})
    assert store.last_health()["status"] == "fail"
    info = store.info()
    assert info["path"].endswith("devkit.db") and info["size_bytes"] > 0 and info["operations"] == 0


def test_schema_version_wal_and_no_file_multiplication(tmp_path):
    path = tmp_path / "s" / "devkit.db"
    for n in range(5):
        with Store(path) as store:
            store.write_batch(batch_of(n * 10, 10, NOW))
    assert sorted(os.listdir(tmp_path / "s")) == ["devkit.db"]
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM operations").fetchone()[0] == 50
    conn.close()


def test_a_newer_schema_or_a_non_database_is_a_store_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="bad.db: cannot open the metrics store"):
        Store(bad)
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(str(newer))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this devkit"):
        Store(newer)


def test_read_transaction_gives_one_snapshot(tmp_path):
    path = tmp_path / "devkit.db"
    with Store(path) as reader, Store(path) as writer:
        writer.write_batch(batch_of(0, 3, NOW))
        with reader.read_transaction():
            before = reader.totals()["requests"]
            writer.write_batch(batch_of(3, 4, NOW))
            assert reader.totals()["requests"] == before == 3
        assert reader.totals()["requests"] == 7

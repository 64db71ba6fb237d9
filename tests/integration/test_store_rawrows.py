"""Raw operation rows in schema 3: keyed by (ts, seq), made-up ids not stored, old stores copied over."""

import json
import sqlite3

import pytest

from devkit.core.events import validate_event
from devkit.core.records import Batch
from devkit.errors import LockBusyError
from devkit.store import Store, ingest
from tests.integration.test_recorder_faults import V1_DDL

# Version 2 is version 1 without the (epoch, ts) index.
V2_DDL = (
    V1_DDL.replace("CREATE INDEX operations_epoch_ts ON operations (epoch, ts);", "")
    .replace("PRAGMA user_version = 1;", "PRAGMA user_version = 2;")
    .replace("'old1', 1700000000.0", "'kept', 1700000000.0")
    + "INSERT INTO operations VALUES (41, 0, NULL, 1699999999.0, 'chat', 'm', 'ok', 1.0, 0, 0, 1, 0.0, NULL, NULL,"
    ' \'{"a": "b"}\');'
)


def test_a_version_2_store_is_copied_into_the_new_layout_and_seq_continues(tmp_path):
    db = tmp_path / "devkit.db"
    conn = sqlite3.connect(str(db))
    conn.executescript(V2_DDL)
    conn.close()
    with Store(db, clock=lambda: 1700000100.0) as store:
        event = validate_event(
            {"operation": "embed", "duration_ms": 1, "status": "ok", "ts": 1700000001}, 1.8e9
        )
        store.write_batch(Batch([event]))
        ops = store.recent(10)
        assert [(op["id"], op["cache_hit"], op["labels"]) for op in ops] == [
            ("#42", None, None),
            ("kept", None, None),
            ("#41", True, {"a": "b"}),
        ]
        assert [op["id"] for op in store.iter_operations()] == ["#41", "kept", "#42"]
    conn = sqlite3.connect(str(db))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "operations_ts" not in tables and not any(name.startswith("operations_before") for name in tables)
    assert conn.execute("SELECT id FROM operations WHERE seq = 42").fetchone() == (None,)
    conn.close()


def test_two_ingests_of_one_file_at_once_never_count_a_line_twice(tmp_path):
    log = tmp_path / "app.jsonl"
    line = json.dumps({"operation": "chat", "duration_ms": 1.0, "status": "ok", "ts": 1700000000})
    log.write_text((line + "\n") * 10)
    with Store(tmp_path / "devkit.db", clock=lambda: 1700000100.0) as store:
        slow = ingest.open_reader(store, str(log))
        assert ingest.ingest_file(store, str(log), now=1700000100.0)["ingested"] == 10
        list(slow.lines())
        with pytest.raises(LockBusyError, match="another ingest of this file is running"):
            store.write_batch(Batch([]), cursor=slow.snapshot())
        slow.close()
        assert store.totals()["requests"] == 10
        log.write_text((line + "\n") * 12)
        assert ingest.ingest_file(store, str(log), now=1700000100.0)["ingested"] == 2

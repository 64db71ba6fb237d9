"""(operation, model) series past metrics.max_series fold into __overflow__: totals exact, outputs bounded."""

import json
import time
import warnings

from devkit.core.records import Batch
from devkit.core.rollup import fold
from devkit.store import Store


def _batch(names, now, model="m"):
    groups = {}
    for name in names:
        fold(groups, now, name, model, "ok", 0.25, 3, 2, False, 0.0)
    return Batch(aggregates=groups)


def _write(db, batch, max_series):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Store(db, max_series=max_series) as store:
            store.write_batch(batch)
    return [str(w.message) for w in caught]


def test_fifty_thousand_operation_names_keep_the_prometheus_export_small_and_totals_exact(tmp_path, cli):
    (tmp_path / "devkit.json").write_text(json.dumps({}))
    db = tmp_path / ".devkit" / "devkit.db"
    db.parent.mkdir()
    now = time.time()
    messages = _write(db, _batch([f"req-{i}" for i in range(25_000)], now), None)
    _write(db, _batch([f"req-{i}" for i in range(25_000, 50_000)], now), None)
    assert sum("__overflow__" in m for m in messages) == 1
    out = tmp_path / "metrics.prom"
    assert cli("metrics", "export", "--format", "prom", "-o", str(out)).code == 0
    assert out.stat().st_size < 2 * 1024 * 1024
    assert "__overflow__" in out.read_text()
    status = cli("status", "--json")
    data = json.loads(status.out)
    assert (data["totals"]["requests"], data["totals"]["prompt_tokens"]) == (50_000, 150_000)
    assert data["store"]["series_overflowed"] == 49_500
    screen = cli("status").out
    assert "49,500 operations counted under __overflow__ (too many series)" in screen


def test_series_already_known_keep_their_name_after_the_cap_is_reached(tmp_path):
    db = tmp_path / "devkit.db"
    now = time.time()
    _write(db, _batch(["a", "b"], now), 2)
    _write(db, _batch(["c", "a", "b"], now), 2)
    with Store(db) as store:
        names = {row["operation"]: row["count"] for row in store.breakdown()}
        info = store.info()
    assert names == {"a": 2, "b": 2, "__overflow__": 1}
    assert info["series_overflowed"] == 1

"""``track()``: what one operation records, as the store will receive it."""

import json
import time

import pytest

import devkit
from devkit.core.records import OperationRecord, full_row
from devkit.errors import UsageError
from devkit.metrics import settings
from devkit.metrics.recorder import RECORDER
from devkit.store import Store
from devkit.store.codec import operation_dict


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """Run the test with the flusher held back; ``recorded()`` drains what track() queued."""
    (tmp_path / "devkit.json").write_text(
        json.dumps(
            {
                "models": [
                    {
                        "name": "llama3",
                        "url": "http://127.0.0.1:9",
                        "price_input_per_1m": 2.0,
                        "price_output_per_1m": 10.0,
                    }
                ]
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEVKIT_CONFIG", raising=False)
    settings.forget()
    with RECORDER.paused():
        RECORDER.drain()
        yield lambda: [OperationRecord(**operation_dict(row)) for row in _rows(RECORDER.drain())]
    settings.forget()


def _rows(batch):
    # Plain operations are kept as short rows; oldest first, as the store orders them.
    return sorted(
        batch.rows + [full_row(row) for row in batch.plain + batch.streamed], key=lambda row: row[1]
    )


def test_a_successful_operation_with_tokens_cache_and_detail(recorded):
    before = time.time()
    with devkit.track("chat", model="llama3", route="/v1") as op:
        op.tokens(prompt=1000, completion=200)
        op.cache(hit=False)
        op.detail("x" * 500)
        time.sleep(0.01)
    (record,) = recorded()
    assert (record.operation, record.model, record.status, record.error) == ("chat", "llama3", "ok", None)
    assert (record.prompt_tokens, record.completion_tokens, record.cache_hit) == (1000, 200, False)
    assert record.cost == pytest.approx(1000 * 2.0 / 1e6 + 200 * 10.0 / 1e6)
    assert 10.0 <= record.duration_ms < 2500
    assert before <= record.ts <= time.time()
    assert record.labels == {"route": "/v1"} and len(record.detail) == 200
    assert record.id is None  # the store shows "#<seq>" for an operation recorded without an id


def test_an_exception_marks_the_operation_error_and_propagates(recorded):
    with pytest.raises(KeyError):
        with devkit.track("lookup") as op:
            op.cache(hit=True)
            raise KeyError("missing")
    (record,) = recorded()
    assert (record.status, record.error, record.cache_hit, record.model, record.cost) == (
        "error",
        "KeyError",
        True,
        None,
        0.0,
    )


def test_decorator_tracks_each_call_and_keeps_the_return_value(recorded):
    @devkit.track("embed", model="llama3")
    def embed(text):
        if not text:
            raise ValueError("empty")
        return len(text)

    assert embed("abc") == 3
    with pytest.raises(ValueError):
        embed("")
    records = recorded()
    assert [(r.operation, r.status, r.error) for r in records] == [
        ("embed", "ok", None),
        ("embed", "error", "ValueError"),
    ]
    assert embed.__name__ == "embed"


def test_stored_operations_have_unique_ids_and_keep_their_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with RECORDER.paused():
        RECORDER.drain()
        for i in range(500):
            with devkit.track("step", index=i % 2) if i % 2 else devkit.track("step"):
                pass
        batch = RECORDER.drain()
    with Store(str(tmp_path / "ops.db")) as store:
        store.write_batch(batch)
        recent = store.recent(limit=1000)
    assert len({op["id"] for op in recent}) == 500 and all(op["id"].startswith("#") for op in recent)
    assert [op["ts"] for op in recent] == sorted((op["ts"] for op in recent), reverse=True)
    assert sum(op["labels"] is not None for op in recent) == 250


def test_bad_arguments_raise_usage_errors(recorded):
    with pytest.raises(UsageError, match="operation"):
        devkit.track("")
    with devkit.track("chat") as op:
        with pytest.raises(UsageError, match="tokens"):
            op.tokens(prompt=-1)
        op.tokens(prompt=3)
    assert [r.prompt_tokens for r in recorded()] == [3]

"""Exporting a store with many operations streams: memory stays far below the size of the data."""

import time
import tracemalloc

import pytest

from devkit.config import load_config
from devkit.core.records import Batch, OperationRecord
from devkit.export import render
from devkit.snapshot import take
from devkit.store import Store, store_path
from tests.integration._store_helpers import write_config

OPERATIONS = 60_000
BATCH = 10_000


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    cfg = load_config(explicit=write_config(root), cwd=str(root))
    path = store_path(cfg)
    now = time.time()
    with Store(str(path)) as store:
        for start in range(0, OPERATIONS, BATCH):
            store.write_batch(
                Batch(
                    [
                        OperationRecord(
                            f"op-{i:07d}",
                            now - 3000 + i * 0.04,
                            'chat, "long"',
                            "llama3",
                            "ok",
                            12.5 + i % 100,
                            100,
                            200,
                            None,
                            0.002,
                            None,
                            "detail text " * 3,
                        )
                        for i in range(start, start + BATCH)
                    ]
                )
            )
    return cfg, now


def _export_peak(cfg, since_ts, now):
    """(bytes exported, rows, tracemalloc peak) of the operations CSV since ``since_ts``."""
    since = "all" if since_ts is None else f"{now - since_ts:.3f}s"
    snapshot = take(cfg, since, now)
    tracemalloc.start()
    try:
        size, rows = 0, 0
        for chunk in render(snapshot, "csv", operations=True):
            size += len(chunk.encode("utf-8"))
            rows += chunk.count("\r\n")
        return size, rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_operations_csv_of_60k_operations_streams_with_flat_memory(big_store):
    cfg, now = big_store
    started = time.monotonic()
    tenth_size, tenth_rows, tenth_peak = _export_peak(cfg, now - 3000 + OPERATIONS * 0.9 * 0.04, now + 1)
    size, rows, peak = _export_peak(cfg, None, now + 1)
    assert rows == OPERATIONS + 1 and tenth_rows < OPERATIONS / 5
    assert size > 8_000_000
    # Flat: ten times the data needs about the same memory, a small fraction of what was exported.
    assert peak < size / 3, (peak, size)
    assert peak < 1.5 * tenth_peak + 500_000, (peak, tenth_peak)
    assert time.monotonic() - started < 30


def test_snapshot_reads_in_one_transaction_and_sees_all_operations(big_store):
    cfg, now = big_store
    snapshot = take(cfg, "all", now + 1)
    assert snapshot.consistent is True
    assert snapshot.totals["requests"] == OPERATIONS
    assert sum(p["requests"] for p in snapshot.history) == OPERATIONS
    assert snapshot.latency.count == OPERATIONS

"""A fixed project for the golden screens: a store of known operations at fixed times and a fixed clock."""

import os

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from tests.conftest import run_in_process
from tests.integration._store_helpers import record, write_config

# 2026-05-28 20:26:40 UTC: a fixed "now", so recent times, dates and windows never move.
NOW = 1_780_000_000.0
MODELS = [
    {
        "name": "llama3",
        "provider": "ollama",
        "url": "http://127.0.0.1:9",
        "price_input_per_1m": 0.5,
        "price_output_per_1m": 1.5,
    },
    {
        "name": "gpt-4o",
        "provider": "openai",
        "url": "http://127.0.0.1:9",
        "price_input_per_1m": 2.5,
        "price_output_per_1m": 10.0,
    },
    {"name": "idle-model", "provider": "http", "url": "http://127.0.0.1:9"},
]
HEALTH = {
    "status": "warn",
    "time": "2026-05-28T18:56:40.000Z",
    "output": "1 warning",
    "checks": {
        "model.llama3:responseTime": [{"status": "pass", "output": "12 ms"}],
        "model.gpt-4o:responseTime": [{"status": "warn", "output": "slow: 2.1 s"}],
        "storage.data": [{"status": "pass"}],
    },
}


def fixed_records():
    """Operations whose every number differs: p50 < p95 < p99, prompt != completion, errors by several types."""
    # llama3's chats streamed: TTFT, chunks, cached and reasoning tokens differ per record too.
    records = [
        record(
            i,
            NOW - 840 + 20 * i,
            model="llama3",
            duration_ms=5.0 * 1.15**i,
            prompt=120 + 7 * i,
            completion=40 + 3 * i,
            ttft_ms=1.0 * 1.15**i,
            chunks=10 + i,
            cached_prompt_tokens=60 + i,
            reasoning_tokens=i,
        )
        for i in range(42)
    ]
    records += [
        record(
            100 + i,
            NOW - 250 + 50 * i,
            operation="embed",
            model="gpt-4o",
            duration_ms=80.0 + 45 * i,
            prompt=900 + i,
            completion=0,
        )
        for i in range(5)
    ]
    errors = ("TimeoutError: no answer after 30 s", "RateLimitError: 429", "TimeoutError: read", None)
    records += [
        record(
            200 + i,
            NOW - 2 * 86400 + 60 * i,
            operation="chat",
            model="gpt-4o",
            status="error",
            duration_ms=30000.0 if i % 2 else 1200.0,
            prompt=50,
            completion=0,
            error=errors[i % 4],
        )
        for i in range(7)
    ]
    records.append(
        record(300, NOW - 20, model="llama3", duration_ms=0.4, prompt=0, completion=0, cache_hit=True)
    )
    records.append(
        record(301, NOW - 9, operation="rerank", model=None, duration_ms=12.5, prompt=3, completion=1)
    )
    return records


def _prices(model, prompt, completion, cached=0):
    rates = {m["name"]: (m.get("price_input_per_1m", 0.0), m.get("price_output_per_1m", 0.0)) for m in MODELS}
    rate_in, rate_out = rates.get(model, (0.0, 0.0))
    return (prompt * rate_in + completion * rate_out) / 1e6


@pytest.fixture(scope="session")
def screens_project(tmp_path_factory):
    """The fixed project folder (config + store written with Store.write_batch at fixed times)."""
    root = tmp_path_factory.mktemp("screens")
    write_config(root, MODELS, project={"name": "demo"})
    with Store(os.path.join(str(root), ".devkit", "devkit.db"), prices=_prices, clock=lambda: NOW) as store:
        store.write_batch(Batch(fixed_records()))
        store.save_health(HEALTH)
    return root


def run_screen(root, argv, columns, now=NOW):
    """Run the CLI in-process at clock ``now`` with ``COLUMNS=columns``; return stdout (asserting exit 0)."""
    result = run_in_process(argv, root, env={"COLUMNS": columns}, clock=lambda: now)
    assert result.code == 0, result.err
    return result.out

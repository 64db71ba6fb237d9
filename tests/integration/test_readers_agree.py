"""status, metrics, metrics tokens and all five export formats show the same totals and percentiles.

The store is written the two real ways: ``devkit.track()`` in an app process, and ``Store.write_batch``.
"""

import csv
import io
import json
import os
import subprocess
import sys
import time

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from tests.conftest import REPO_ROOT, clean_env, run_in_process
from tests.integration._store_helpers import record, write_config
from tests.unit._promparse import parse

APP = """
import devkit
from devkit.metrics.api import flush
for i in range(30):
    try:
        with devkit.track("chat" if i % 3 else "embed", model="llama3" if i % 2 else "gpt") as op:
            op.tokens(prompt=i, completion=2 * i)
            op.cache(hit=i % 4 == 0)
            if i % 7 == 0:
                raise ValueError("boom")
    except ValueError:
        pass
for i in range(6):
    with devkit.track("stream", model="llama3") as op:
        op.first_token()
        op.chunk()
        op.chunk()
        op.usage({"model": "llama3", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4 + i,
                  "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}}})
flush()
"""
STREAMED = 6 + 10  # six from the app, every fourth of the forty written records
LLM_SUMS = ("cached_prompt_tokens", "reasoning_tokens")
MODELS = [
    {
        "name": "llama3",
        "provider": "ollama",
        "url": "http://127.0.0.1:9",
        "price_input_per_1m": 1.0,
        "price_output_per_1m": 2.0,
    }
]
SUMS = ("requests", "errors", "prompt_tokens", "completion_tokens", "cost", "cache_hits", "cache_misses")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A store with operations from track() in a real app process plus a batch with wide latencies."""
    root = tmp_path_factory.mktemp("agree")
    write_config(root, MODELS)
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    subprocess.run([sys.executable, "-c", APP], cwd=str(root), env=env, check=True, timeout=60)
    now = time.time()
    records = [
        record(
            100 + i,
            now - 120 + i,
            operation="chat",
            model="llama3",
            status="ok" if i % 9 else "error",
            duration_ms=5.0 * 1.15**i,
            prompt=3 * i,
            completion=i,
            cache_hit=i % 2 == 0,
            cached_prompt_tokens=i,
            reasoning_tokens=i // 2,
            ttft_ms=2.0 * 1.15**i if i % 4 == 0 else None,
            chunks=5 if i % 4 == 0 else None,
        )
        for i in range(40)
    ]
    records += [
        record(200 + i, now - 60, operation="summarise", model=None, duration_ms=412.0 if i else 30000.0)
        for i in range(2)
    ]
    prices = lambda m, p, c, cached=0: (p * 1.0 + c * 2.0) / 1e6 if m == "llama3" else 0.0  # noqa: E731
    with Store(os.path.join(str(root), ".devkit", "devkit.db"), prices=prices) as store:
        store.write_batch(Batch(records))
    return root, now + 1


def _run(project, *argv):
    root, now = project
    result = run_in_process(argv, root, clock=lambda: now)
    assert result.code == 0, result.err
    return result.out


def _totals_of(rows, count="requests"):
    out = {k: sum(r.get(k) or 0 for r in rows) for k in SUMS if k != "requests"}
    out["requests"] = sum(r[count] for r in rows)
    return out


def _same(got, want):
    assert set(got) == set(want)
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key


def _prom_samples(text, openmetrics):
    return [sample for family in parse(text, openmetrics).values() for sample in family.samples]


def _prom_totals(samples):
    def total(name, **match):
        return sum(
            v for n, labels, v in samples if n == name and all(labels.get(k) == x for k, x in match.items())
        )

    return {
        "requests": total("devkit_operations_total"),
        "errors": total("devkit_operations_total", status="error"),
        "prompt_tokens": total("devkit_tokens_total", kind="prompt"),
        "completion_tokens": total("devkit_tokens_total", kind="completion"),
        "cost": total("devkit_cost_total"),
        "cache_hits": total("devkit_cache_lookups_total", result="hit"),
        "cache_misses": total("devkit_cache_lookups_total", result="miss"),
    }


def _md_number(text, label):
    line = next(line for line in text.splitlines() if line.startswith(f"| {label} |"))
    return line.split("|")[2].strip()


def test_every_reader_agrees_on_every_total_and_percentile(project):
    status = json.loads(_run(project, "status", "--json"))
    totals = {k: status["totals"][k] for k in SUMS}
    assert totals["requests"] == 78 and totals["errors"] == 5 + 5 and totals["cache_hits"] == 8 + 20
    rows = json.loads(_run(project, "metrics", "--json"))["rows"]
    _same(_totals_of(rows, "count"), totals)
    tokens = json.loads(_run(project, "metrics", "tokens", "--json"))
    for table in ("by_model", "by_operation"):
        got = _totals_of(tokens[table])
        _same(
            {k: got[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost")},
            {k: totals[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost")},
        )
    export = json.loads(_run(project, "metrics", "export", "--format", "json"))
    _same({k: export["totals"][k] for k in SUMS}, totals)
    series = export["series"]
    _same(
        _totals_of(
            [dict(r, requests=r["count"], errors=r["count"] * (r["status"] == "error")) for r in series]
        ),
        totals,
    )
    for name in ("p50", "p90", "p95", "p99"):
        assert status["latency_ms"][name] == export["percentiles"][name + "_ms"]
    for fmt in ("prom", "openmetrics"):
        samples = _prom_samples(_run(project, "metrics", "export", "--format", fmt), fmt == "openmetrics")
        _same(_prom_totals(samples), totals)
        _check_prom_percentiles(samples, series)
    _check_csv(_run(project, "metrics", "export", "--format", "csv"), series, totals)
    _check_markdown(_run(project, "metrics", "export", "--format", "md"), status, series)
    _check_metrics_rows(rows, series)


def _key(row):
    return (row["operation"], row["model"] or "", row["status"])


def _check_prom_percentiles(samples, series):
    quantiles = {
        (labels["operation"], labels["model"], labels["status"], labels["quantile"]): value
        for name, labels, value in samples
        if name == "devkit_operation_latency_seconds"
    }
    assert len(quantiles) == 4 * len(series)
    for row in series:
        for name, q in (("p50", "0.5"), ("p90", "0.9"), ("p95", "0.95"), ("p99", "0.99")):
            assert round(quantiles[_key(row) + (q,)] * 1000.0, 3) == row[name + "_ms"]


def _check_csv(text, series, totals):
    records = [r for r in csv.DictReader(io.StringIO(text, newline="")) if r["record"] == "series"]
    got = {k: sum(float(r[k] or 0) for r in records) for k in SUMS}
    _same(got, totals)
    by_key = {_key(dict(r, model=r["model"] or None)): r for r in records}
    for row in series:
        for name in ("p50", "p90", "p95", "p99"):
            assert float(by_key[_key(row)][name]) == row[name + "_ms"]


def _check_markdown(text, status, series):
    t = status["totals"]
    assert _md_number(text, "Requests") == f"{t['requests']:,}"
    assert _md_number(text, "Errors").startswith(f"{t['errors']:,} (")
    for label, key in (
        ("Prompt tokens", "prompt_tokens"),
        ("Completion tokens", "completion_tokens"),
        ("Total tokens", "total_tokens"),
    ):
        assert _md_number(text, label) == f"{t[key]:,}"
    assert _md_number(text, "Cost (USD)") == f"${t['cost']:,.4f}"
    lat = status["latency_ms"]
    assert _md_number(text, "Latency p50 / p95 / p99 (ms)") == " / ".join(
        f"{lat[k]:,.1f}" for k in ("p50", "p95", "p99")
    )
    table = text.split("## Latency percentiles")[1].split("##")[0]
    cells = [
        line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ") and "---" not in line
    ]
    assert len(cells) == len(series) + 1
    for row, line in zip(series, cells[1:]):
        assert [c.strip() for c in line[4:8]] == [
            f"{row[n + '_ms']:,.1f}" for n in ("p50", "p90", "p95", "p99")
        ]


def _check_metrics_rows(rows, series):
    statuses = {}
    for row in series:
        statuses.setdefault((row["operation"], row["model"]), []).append(row)
    single = [r for r in rows if len(statuses[(r["operation"], r["model"])]) == 1]
    assert single, "the data must hold an (operation, model) with one status"
    for row in single:
        only = statuses[(row["operation"], row["model"])][0]
        assert [row[n + "_ms"] for n in ("p50", "p90", "p95", "p99")] == [
            only[n + "_ms"] for n in ("p50", "p90", "p95", "p99")
        ]


def test_every_reader_agrees_on_cached_reasoning_tokens_and_stream_percentiles(project):
    status = json.loads(_run(project, "status", "--json"))
    want = {k: status["totals"][k] for k in LLM_SUMS}
    assert want == {
        "cached_prompt_tokens": 6 * 2 + sum(range(40)),
        "reasoning_tokens": 6 + sum(i // 2 for i in range(40)),
    }
    tokens = json.loads(_run(project, "metrics", "tokens", "--json"))
    for table in ("by_model", "by_operation"):
        assert {k: sum(r[k] for r in tokens[table]) for k in LLM_SUMS} == want
    export = json.loads(_run(project, "metrics", "export", "--format", "json"))
    series = export["series"]
    assert {k: export["totals"][k] for k in LLM_SUMS} == want
    assert {k: sum(r[k] for r in series) for k in LLM_SUMS} == want
    records = [
        r
        for r in csv.DictReader(
            io.StringIO(_run(project, "metrics", "export", "--format", "csv"), newline="")
        )
        if r["record"] == "series"
    ]
    assert {k: sum(int(r[k]) for r in records) for k in LLM_SUMS} == want
    by_key = {_key(dict(r, model=r["model"] or None)): r for r in records}
    rows = {(r["operation"], r["model"]): r for r in json.loads(_run(project, "metrics", "--json"))["rows"]}
    streamed = [r for r in series if r["ttft_p50_ms"] is not None]
    assert {_key(r) for r in streamed} == {
        ("chat", "llama3", "ok"),
        ("chat", "llama3", "error"),
        ("stream", "llama3", "ok"),
    }
    for row in streamed:
        for name in ("ttft_p50_ms", "ttft_p95_ms", "time_per_chunk_p50_ms", "tokens_per_s_p50"):
            assert float(by_key[_key(row)][name]) == row[name]
    stream_row = next(r for r in series if r["operation"] == "stream")
    assert rows[("stream", "llama3")]["ttft_p50_ms"] == stream_row["ttft_p50_ms"] is not None
    _check_llm_prom(_run(project, "metrics", "export", "--format", "prom"), want)
    otlp = json.loads(_run(project, "metrics", "export", "--format", "otlp"))
    metrics = {m["name"]: m for m in otlp["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}
    points = metrics["gen_ai.client.operation.time_to_first_chunk"]["histogram"]["dataPoints"]
    assert sum(int(p["count"]) for p in points) == STREAMED
    assert all(sum(int(n) for n in p["bucketCounts"]) == int(p["count"]) for p in points)
    md = _run(project, "metrics", "export", "--format", "md").split(
        "## Streaming and token detail per model"
    )[1]
    line = next(line for line in md.splitlines() if line.startswith("| llama3 |"))
    cells = [c.strip() for c in line.split("|")[1:-1]]
    assert cells[1] == f"{status['by_model'][-1]['ttft_p50_ms']:,.1f}" and cells[6:] == [
        f"{v:,}" for v in want.values()
    ]


def _check_llm_prom(text, want):
    samples = _prom_samples(text, False)
    details = {
        k: sum(
            v for n, labels, v in samples if n == "devkit_token_details_total" and labels["kind"] == k[:-7]
        )
        for k in LLM_SUMS
    }
    assert details == want
    assert sum(v for n, _, v in samples if n == "devkit_time_to_first_token_seconds_count") == STREAMED

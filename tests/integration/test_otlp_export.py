"""``metrics export --format otlp``: GenAI names, buckets that sum to counts, totals equal to ``status --json``."""

import json
import os

import pytest

from devkit.core.sketch import Sketch
from devkit.export.families import LE_BOUNDS
from devkit.export.otlp import DURATION_BOUNDS_S, TOKEN_BOUNDS, metric_name, sketch_buckets
from tests.integration._store_helpers import write_config

EVENTS = [
    {
        "operation": "chat",
        "model": "llama3",
        "duration_ms": 15.0,
        "prompt_tokens": 120,
        "completion_tokens": 48,
    },
    {
        "operation": "chat",
        "model": "llama3",
        "duration_ms": 300.0,
        "prompt_tokens": 80,
        "completion_tokens": 12,
    },
    {
        "operation": "chat",
        "model": "llama3",
        "duration_ms": 2500.0,
        "prompt_tokens": 10,
        "completion_tokens": 900,
    },
    {"operation": "chat", "model": "llama3", "duration_ms": 95000.0, "status": "error"},
    {
        "operation": "chat",
        "model": "gpt-4o-mini",
        "duration_ms": 903.1,
        "prompt_tokens": 300,
        "completion_tokens": 210,
        "cache_hit": True,
    },
    {"operation": "embed", "model": "nomic", "duration_ms": 35.0, "prompt_tokens": 64},
    {"operation": "lookup", "duration_ms": 0.2, "cache_hit": False},
]
MODELS = [
    {"name": "llama3", "provider": "ollama", "url": "http://127.0.0.1:11434"},
    {
        "name": "gpt-4o-mini",
        "provider": "openai",
        "url": "http://127.0.0.1:8000/v1",
        "price_input_per_1m": 0.15,
        "price_output_per_1m": 0.6,
    },
    {"name": "nomic", "provider": "http", "url": "http://127.0.0.1:9/health"},
]


def _project(tmp_path, cli):
    write_config(tmp_path, MODELS, project={"name": "my-app"})
    lines = (json.dumps(dict({"status": "ok"}, **e)) + "\n" for e in EVENTS)
    (tmp_path / "events.jsonl").write_text("".join(lines))
    assert cli("metrics", "ingest", "events.jsonl").code == 0


def _otlp(cli):
    result = cli("metrics", "export", "--format", "otlp")
    assert result.code == 0, result
    return json.loads(result.out)


def _metrics(doc):
    (resource,) = doc["resourceMetrics"]
    (scope,) = resource["scopeMetrics"]
    return {m["name"]: m for m in scope["metrics"]}, resource


def _attrs(point):
    return {a["key"]: a["value"]["stringValue"] for a in point["attributes"]}


def test_histograms_buckets_sum_to_counts_and_totals_equal_status(tmp_path, cli):
    _project(tmp_path, cli)
    metrics, _ = _metrics(_otlp(cli))
    status = json.loads(cli("status", "--json").out)["totals"]
    duration = metrics["gen_ai.client.operation.duration"]["histogram"]["dataPoints"]
    tokens = metrics["gen_ai.client.token.usage"]["histogram"]["dataPoints"]
    for point in duration + tokens:
        assert sum(int(n) for n in point["bucketCounts"]) == int(point["count"])
        assert len(point["bucketCounts"]) == len(point["explicitBounds"]) + 1
    assert sum(int(p["count"]) for p in duration) == status["requests"] == len(EVENTS)
    assert sum(int(p["count"]) for p in duration if "error.type" in _attrs(p)) == status["errors"] == 1
    by_type = {"input": 0, "output": 0}
    for point in tokens:
        by_type[_attrs(point)["gen_ai.token.type"]] += point["sum"]
    assert by_type == {"input": status["prompt_tokens"], "output": status["completion_tokens"]}
    assert sum(p["asDouble"] for p in metrics["devkit.cost"]["sum"]["dataPoints"]) == pytest.approx(
        status["cost"], abs=1e-6
    )


def test_names_attributes_temporality_and_resource(tmp_path, cli):
    _project(tmp_path, cli)
    metrics, resource = _metrics(_otlp(cli))
    assert resource["resource"]["attributes"] == [{"key": "service.name", "value": {"stringValue": "my-app"}}]
    duration = metrics["gen_ai.client.operation.duration"]
    assert duration["unit"] == "s" and duration["histogram"]["aggregationTemporality"] == 2
    assert metrics["gen_ai.client.token.usage"]["unit"] == "{token}"
    points = {tuple(sorted(_attrs(p).items())): p for p in duration["histogram"]["dataPoints"]}
    error = (
        ("error.type", "_OTHER"),
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.provider.name", "ollama"),
        ("gen_ai.request.model", "llama3"),
    )
    assert error in points and points[error]["explicitBounds"] == list(DURATION_BOUNDS_S)
    assert (
        ("gen_ai.operation.name", "embed"),
        ("gen_ai.request.model", "nomic"),
    ) in points  # http: no provider
    assert (("gen_ai.operation.name", "lookup"),) in points
    ok = points[
        (
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", "ollama"),
            ("gen_ai.request.model", "llama3"),
        )
    ]
    # 15 ms, 300 ms and 2.5 s land in (0.01, 0.02], (0.16, 0.32] and (1.28, 2.56].
    assert [int(n) for n in ok["bucketCounts"]] == [0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    lookups = metrics["devkit.cache.lookups"]["sum"]
    assert lookups["isMonotonic"] is True and lookups["aggregationTemporality"] == 2


def test_token_points_put_every_call_in_the_bucket_of_the_mean(tmp_path, cli):
    _project(tmp_path, cli)
    metrics, _ = _metrics(_otlp(cli))
    for point in metrics["gen_ai.client.token.usage"]["histogram"]["dataPoints"]:
        attrs = _attrs(point)
        if attrs.get("gen_ai.request.model") == "llama3" and attrs["gen_ai.token.type"] == "output":
            assert point["count"] == "3" and point["sum"] == 960.0  # mean 320 -> (256, 1024]
            assert point["bucketCounts"][TOKEN_BOUNDS.index(1024)] == "3"
            return
    raise AssertionError("no llama3 output point")


def test_sketch_buckets_follow_otlp_upper_inclusive_bounds():
    sketch = Sketch()
    for value in (0.0, 0.005, 0.01, 0.5, 1000.0):
        sketch.add(value)
    counts = sketch_buckets(sketch, DURATION_BOUNDS_S)
    assert sum(counts) == 5 and counts[0] == 3 and counts[6] == 1 and counts[-1] == 1


def test_user_instrument_names_become_valid_otel_names():
    assert metric_name("app.queue-depth/items") == "app.queue-depth/items"
    assert metric_name("9 lives") == "devkit_9_lives"
    assert len(metric_name("x" * 400)) == 255


def test_empty_store_exports_a_valid_empty_request(tmp_path, cli):
    write_config(tmp_path)
    metrics, resource = _metrics(_otlp(cli))
    assert metrics == {} and resource["resource"]["attributes"][0]["value"]["stringValue"] == tmp_path.name


def test_user_instruments_and_since_start_times():
    from devkit.export.otlp import export_request
    from devkit.snapshot import Snapshot

    sketch = Sketch()
    sketch.add(0.2)
    instruments = [
        {"name": "app.jobs", "kind": "counter", "labels": {"queue": "a"}, "value": 7, "created_ts": 100.0},
        {"name": "app.depth", "kind": "gauge", "labels": {}, "value": 3.5, "created_ts": 100.0},
        {"name": "app.step", "kind": "histogram", "labels": {}, "sketch": sketch, "created_ts": 100.0},
        {"name": "devkit.cost", "kind": "gauge", "labels": {}, "value": 1.0, "created_ts": 100.0},
    ]
    row = {
        "operation": "chat",
        "model": None,
        "status": "ok",
        "count": 1,
        "sketch": sketch,
        "created_ts": 100.0,
        "cost": 0.5,
    }
    doc = export_request(
        Snapshot(300.0, since_ts=200.0, breakdown=[row], instruments=instruments, project="p")
    )
    metrics, _ = _metrics(doc)
    assert metrics["app.jobs"]["sum"]["isMonotonic"] is True
    assert metrics["app.jobs"]["sum"]["dataPoints"][0]["asDouble"] == 7.0
    assert metrics["app.depth"]["gauge"]["dataPoints"][0]["asDouble"] == 3.5
    assert metrics["app.step"]["histogram"]["dataPoints"][0]["count"] == "1"
    assert metrics["app.step"]["histogram"]["dataPoints"][0]["explicitBounds"] == list(LE_BOUNDS)
    assert metrics["devkit.cost_"]["gauge"]["dataPoints"][0]["asDouble"] == 1.0  # the built-in keeps its name
    point = metrics["gen_ai.client.operation.duration"]["histogram"]["dataPoints"][0]
    assert (point["startTimeUnixNano"], point["timeUnixNano"]) == ("200000000000", "300000000000")
    assert metrics["app.jobs"]["sum"]["dataPoints"][0]["startTimeUnixNano"] == "100000000000"


def test_scheduled_otlp_exports_are_named_otlp_json(tmp_path, cli):
    _project(tmp_path, cli)
    result = cli(
        "metrics", "export", "--format", "otlp", "--every", "1s", "--count", "1", "-o", str(tmp_path / "out")
    )
    assert result.code == 0, result
    (name,) = os.listdir(tmp_path / "out")
    assert name.startswith("devkit-export-") and name.endswith(".otlp.json")
    assert "resourceMetrics" in json.loads((tmp_path / "out" / name).read_text())


def test_the_renderer_needs_only_the_documented_snapshot_attributes():
    from types import SimpleNamespace

    from devkit.export.otlp import render_otlp

    sketch = Sketch()
    sketch.add(1.5)
    row = {
        "operation": "chat",
        "model": "m",
        "status": "ok",
        "count": 1,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "sketch": sketch,
        "created_ts": 10.0,
    }
    snapshot = SimpleNamespace(breakdown=[row], instruments=[], generated_at=20.0, project="p")
    metrics, _ = _metrics(json.loads("".join(render_otlp(snapshot))))
    assert sorted(metrics) == ["gen_ai.client.operation.duration", "gen_ai.client.token.usage"]

"""Interop check: devkit's OTLP/JSON parses into the official ExportMetricsServiceRequest without unknown fields.

Fills a throwaway project (real store through ``devkit metrics ingest``) and a snapshot with user
instruments and hostile names, renders both as OTLP/JSON, checks that every histogram's bucket
counts sum to its count and that the totals equal ``devkit status --json``; then makes a throwaway
venv, installs ``opentelemetry-proto`` there and parses each document with
``google.protobuf.json_format.Parse`` (which rejects unknown fields). The venv is removed
afterwards; without network or package the proto check is skipped (exit 0, says so).

    python bench/otlp_interop.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

MODELS = [
    {"name": "llama3", "provider": "ollama", "url": "http://127.0.0.1:11434"},
    {
        "name": "gpt-4o-mini",
        "provider": "openai",
        "url": "http://127.0.0.1:8000/v1",
        "price_input_per_1m": 0.15,
        "price_output_per_1m": 0.6,
    },
]
PROTO_CHECK = r"""
import json, sys
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        request = json_format.Parse(handle.read(), ExportMetricsServiceRequest())
    points = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                if metric.WhichOneof("data") == "histogram":
                    for p in metric.histogram.data_points:
                        assert sum(p.bucket_counts) == p.count, (metric.name, list(p.bucket_counts), p.count)
                        assert len(p.bucket_counts) == len(p.explicit_bounds) + 1, metric.name
                        points += 1
    print(f"{path}: parsed, {points} histogram points, bucket counts sum to counts")
try:
    json_format.Parse('{"resourceMetrics": [{"unknownField": 1}]}', ExportMetricsServiceRequest())
    sys.exit("json_format.Parse accepted an unknown field: this check proves nothing")
except json_format.ParseError:
    print("control: an unknown field is rejected")
"""


def events():
    """Operations of several models, statuses, token counts and cache results."""
    out = []
    for i in range(300):
        model = ("llama3", "gpt-4o-mini", None, 'we"ird\nmodel')[i % 4]
        event = {
            "operation": ("chat", "embed", "lookup")[i % 3],
            "status": "error" if i % 17 == 0 else "ok",
            "duration_ms": 0.5 + (i * 37 % 5000) * 3.1,
            "prompt_tokens": i % 7 * 40,
            "completion_tokens": i % 5 * 90,
        }
        if model is not None:
            event["model"] = model
        if i % 3 == 2:
            event["cache_hit"] = i % 2 == 0
        if i % 4 < 2 and event["completion_tokens"]:
            # Streamed calls: time to first chunk, chunks, cached and reasoning tokens (the GenAI chunk metrics).
            event.update(
                ttft_ms=event["duration_ms"] * 0.3,
                chunks=event["completion_tokens"] // 10,
                cached_prompt_tokens=event["prompt_tokens"] // 2,
                reasoning_tokens=event["completion_tokens"] // 3,
            )
        out.append(event)
    return out


def devkit(project, *argv):
    """Run the devkit CLI in ``project``; return its stdout."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "devkit", *argv],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        sys.exit(f"devkit {' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def store_document(work):
    """OTLP/JSON and ``status --json`` of a real project store."""
    project = os.path.join(work, "project")
    os.makedirs(project)
    with open(os.path.join(project, "devkit.json"), "w", encoding="utf-8") as handle:
        json.dump({"project": {"name": "interop-app"}, "models": MODELS}, handle)
    with open(os.path.join(project, "events.jsonl"), "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(e) + "\n" for e in events())
    devkit(project, "metrics", "ingest", "events.jsonl")
    return devkit(project, "metrics", "export", "--format", "otlp"), json.loads(
        devkit(project, "status", "--json")
    )


def instruments_document():
    """OTLP/JSON of a snapshot holding user counters, gauges and histograms with hostile names."""
    from devkit.core.sketch import Sketch
    from devkit.export.otlp import export_request
    from devkit.snapshot import Snapshot

    sketch = Sketch()
    for value in (0.001, 0.2, 3.0, 42.0, 900.0):
        sketch.add(value)
    labels = {'q"uote': "new\nline", "ünï": "日本語"}
    instruments = [
        {
            "name": "app.requests",
            "kind": "counter",
            "help": "h",
            "labels": labels,
            "value": 7,
            "created_ts": 1.0,
        },
        {"name": "9 queue depth", "kind": "gauge", "help": "", "labels": {}, "value": 3.5, "created_ts": 1.0},
        {
            "name": "app.step",
            "kind": "histogram",
            "help": "x",
            "labels": labels,
            "sketch": sketch,
            "created_ts": 1.0,
        },
        {
            "name": "app.empty",
            "kind": "histogram",
            "help": "",
            "labels": {},
            "sketch": None,
            "created_ts": None,
        },
    ]
    return json.dumps(export_request(Snapshot(1700000000.5, instruments=instruments, project="x")))


def check_consistency(text, status):
    """Bucket counts sum to counts; duration counts and token sums equal the status totals."""
    metrics = {m["name"]: m for m in json.loads(text)["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}
    duration = metrics["gen_ai.client.operation.duration"]["histogram"]["dataPoints"]
    tokens = metrics["gen_ai.client.token.usage"]["histogram"]["dataPoints"]
    for point in duration + tokens:
        assert sum(int(n) for n in point["bucketCounts"]) == int(point["count"]), point
    totals = status["totals"]
    assert sum(int(p["count"]) for p in duration) == totals["requests"]
    sums = {"input": 0, "output": 0}
    for point in tokens:
        kind = [a["value"]["stringValue"] for a in point["attributes"] if a["key"] == "gen_ai.token.type"][0]
        sums[kind] += point["sum"]
    assert sums == {"input": totals["prompt_tokens"], "output": totals["completion_tokens"]}, sums
    print(
        f"consistency: {len(duration)} duration and {len(tokens)} token points; buckets sum to counts; "
        f"requests {totals['requests']}, tokens {sums} equal status --json"
    )


def proto_check(work, paths):
    """Parse ``paths`` with opentelemetry-proto in a throwaway venv; False when it cannot be had."""
    venv = os.path.join(work, "venv")
    python = os.path.join(venv, "bin", "python")
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=300)
        subprocess.run(
            [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "opentelemetry-proto"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"skipped: opentelemetry-proto could not be installed ({type(exc).__name__})")
        return False
    proc = subprocess.run([python, "-c", PROTO_CHECK, *paths], capture_output=True, text=True, timeout=300)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.exit("opentelemetry-proto rejected the OTLP/JSON:\n" + proc.stderr)
    return True


def main():
    """Build the documents, check them here, then with the official proto package."""
    work = tempfile.mkdtemp(prefix="devkit-otlp-interop-")
    try:
        text, status = store_document(work)
        check_consistency(text, status)
        paths = [os.path.join(work, "store.otlp.json"), os.path.join(work, "instruments.otlp.json")]
        for path, body in zip(paths, (text, instruments_document())):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(body)
        if proto_check(work, paths):
            print("interop: OK (json_format.Parse accepted every document; no unknown fields)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

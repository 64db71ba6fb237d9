"""An OTLP/HTTP JSON ``ExportMetricsServiceRequest`` of a snapshot, named by the OpenTelemetry GenAI conventions.

Reads from the snapshot only ``breakdown`` (operation, model, status, count, prompt_tokens,
completion_tokens, cost, cache_hits, cache_misses, sketch, created_ts), ``instruments`` (name,
kind, help, labels, value, sketch, created_ts), ``generated_at``, ``since_ts`` and ``project``.
Every point is cumulative from its series' start.
"""

import json
import re
from bisect import bisect_left

import devkit
from devkit.core.sketch import Sketch, slot_value
from devkit.export.families import LE_BOUNDS

# The explicit bucket boundaries the GenAI metric conventions recommend.
DURATION_BOUNDS_S = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
TOKEN_BOUNDS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
# time_per_output_chunk: the boundaries the conventions recommend for time per output token.
CHUNK_BOUNDS_S = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
CUMULATIVE = 2  # AGGREGATION_TEMPORALITY_CUMULATIVE; OTLP/JSON writes enums as integers
DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
COST = "devkit.cost"
CACHE_LOOKUPS = "devkit.cache.lookups"
GENAI_PROVIDERS = ("openai", "ollama")  # devkit's "http" models are plain HTTP probes, not GenAI providers
OTHER_ERROR = "_OTHER"
CACHE_FIELDS = (("hit", "cache_hits"), ("miss", "cache_misses"))
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-/]")
MAX_NAME_CHARS = 255


def render_otlp(snapshot, cfg=None):
    """Yield the request as one JSON document; ``cfg`` supplies each model's provider when given."""
    yield json.dumps(export_request(snapshot, model_providers(cfg)), ensure_ascii=False) + "\n"


def model_providers(cfg):
    """``{model name: gen_ai.provider.name}`` for configured models of a GenAI provider."""
    if cfg is None:
        return {}
    return {m["name"]: m["provider"] for m in cfg.models if m.get("provider") in GENAI_PROVIDERS}


def export_request(snapshot, providers=None):
    """The ``ExportMetricsServiceRequest`` dict (OTLP/JSON field names, 64-bit integers as strings)."""
    now = snapshot.generated_at
    since_ts = getattr(snapshot, "since_ts", None)
    metrics = builtin_metrics(snapshot.breakdown, providers or {}, since_ts, now)
    metrics += stream_metrics(snapshot.breakdown, providers or {}, since_ts, now)
    metrics += instrument_metrics(snapshot.instruments, {m["name"] for m in metrics}, now)
    resource = {"attributes": attributes({"service.name": snapshot.project or "devkit"})}
    scope = {"name": "devkit", "version": devkit.__version__}
    return {
        "resourceMetrics": [{"resource": resource, "scopeMetrics": [{"scope": scope, "metrics": metrics}]}]
    }


def builtin_metrics(breakdown, providers, since_ts, now):
    """Duration and token histograms, cost and cache lookups, one point per breakdown row."""
    duration, tokens, cost, cache = [], [], [], []
    for row in breakdown:
        attrs = series_attributes(row, providers)
        start = _start(row.get("created_ts"), since_ts, now)
        sketch = row.get("sketch")
        if sketch is not None and sketch.count:
            duration.append(histogram_point(attrs, start, now, sketch, DURATION_BOUNDS_S))
        if row.get("prompt_tokens") or row.get("completion_tokens"):
            for kind, field in (("input", "prompt_tokens"), ("output", "completion_tokens")):
                point_attrs = dict(attrs, **{"gen_ai.token.type": kind})
                tokens.append(mean_point(point_attrs, start, now, row.get("count") or 0, row.get(field) or 0))
        if row.get("cost"):
            cost.append(number_point(attrs, start, now, float(row["cost"])))
        for result, field in CACHE_FIELDS if row.get("cache_hits") or row.get("cache_misses") else ():
            point_attrs = dict(attrs, **{"devkit.cache.result": result})
            cache.append(number_point(point_attrs, start, now, int(row.get(field) or 0)))
    return [
        m
        for m in (
            histogram(DURATION, "GenAI operation duration.", "s", duration),
            histogram(TOKEN_USAGE, "Number of input and output tokens used.", "{token}", tokens),
            cumulative_sum(COST, "Estimated cost in US dollars.", "{USD}", cost),
            cumulative_sum(CACHE_LOOKUPS, "Cache lookups by result (hit|miss).", "{lookup}", cache),
        )
        if m is not None
    ]


def stream_metrics(breakdown, providers, since_ts, now):
    """Time to first chunk and time per output chunk histograms of the rows that streamed."""
    first, per_chunk = [], []
    for row in breakdown:
        attrs = series_attributes(row, providers)
        start = _start(row.get("created_ts"), since_ts, now)
        for points, name, bounds in ((first, "ttft", DURATION_BOUNDS_S), (per_chunk, "tpot", CHUNK_BOUNDS_S)):
            sketch = row.get(name)
            if sketch is not None and sketch.count:
                points.append(histogram_point(attrs, start, now, sketch, bounds))
    return [
        m
        for m in (
            histogram(
                TIME_TO_FIRST_CHUNK, "Time to receive the first chunk of a streamed response.", "s", first
            ),
            histogram(
                TIME_PER_OUTPUT_CHUNK,
                "Time between output chunks after the first (per-call mean).",
                "s",
                per_chunk,
            ),
        )
        if m is not None
    ]


def series_attributes(row, providers):
    """GenAI attributes of one breakdown row (error.type only for failed operations)."""
    out = {"gen_ai.operation.name": str(row.get("operation") or "")}
    model = row.get("model")
    if model is not None:
        out["gen_ai.request.model"] = str(model)
        if model in providers:
            out["gen_ai.provider.name"] = providers[model]
    status = str(row.get("status") or "ok")
    if status != "ok":
        out["error.type"] = OTHER_ERROR if status == "error" else status
    return out


def _start(created_ts, since_ts, now):
    start = created_ts if created_ts is not None else now
    return max(start, since_ts) if since_ts is not None else start


def attributes(mapping):
    """OTLP ``KeyValue`` list of string attributes."""
    return [{"key": key, "value": {"stringValue": str(value)}} for key, value in mapping.items()]


def _nanos(ts):
    return str(int(round(ts * 1e9)))


def _point(attrs, start, now):
    return {"attributes": attributes(attrs), "startTimeUnixNano": _nanos(start), "timeUnixNano": _nanos(now)}


def sketch_buckets(sketch, bounds):
    """Per-bucket counts (not cumulative) of a Sketch at explicit ``bounds``; they sum to its count.

    Each sketch slot's representative value (clamped to the exact min and max) falls in the
    bucket ``(bounds[i-1], bounds[i]]``, as OTLP defines them.
    """
    counts = [0] * (len(bounds) + 1)
    if not sketch.count:
        return counts
    for slot, n in sketch.nonzero():
        value = min(max(slot_value(slot), sketch.min), sketch.max)
        counts[bisect_left(bounds, value)] += n
    return counts


def histogram_point(attrs, start, now, sketch, bounds):
    """A histogram data point from a Sketch: exact count, sum, min and max."""
    point = _point(attrs, start, now)
    point.update(count=str(sketch.count), sum=sketch.sum)
    point["bucketCounts"] = [str(n) for n in sketch_buckets(sketch, bounds)]
    point["explicitBounds"] = list(bounds)
    if sketch.count:
        point.update(min=sketch.min, max=sketch.max)
    return point


def mean_point(attrs, start, now, count, total):
    """A token histogram point from aggregates: exact count and sum, every count in the mean's bucket.

    The store keeps per-series token sums, not each call's tokens, so the spread across buckets
    is unknown; putting all ``count`` observations in the bucket of ``total / count`` keeps the
    bucket counts summing to the count and the mean right.
    """
    point = _point(attrs, start, now)
    counts = [0] * (len(TOKEN_BOUNDS) + 1)
    if count:
        counts[bisect_left(TOKEN_BOUNDS, total / count)] = count
    point.update(count=str(count), sum=float(total), bucketCounts=[str(n) for n in counts])
    point["explicitBounds"] = list(TOKEN_BOUNDS)
    return point


def number_point(attrs, start, now, value):
    """A sum or gauge data point (integers as ``asInt`` strings, floats as ``asDouble``)."""
    point = _point(attrs, start, now)
    if isinstance(value, int):
        point["asInt"] = str(value)
    else:
        point["asDouble"] = value
    return point


def histogram(name, description, unit, points):
    """A cumulative histogram metric, or None without points."""
    if not points:
        return None
    body = {"dataPoints": points, "aggregationTemporality": CUMULATIVE}
    return {"name": name, "description": description, "unit": unit, "histogram": body}


def cumulative_sum(name, description, unit, points):
    """A monotonic cumulative sum metric, or None without points."""
    if not points:
        return None
    body = {"dataPoints": points, "aggregationTemporality": CUMULATIVE, "isMonotonic": True}
    return {"name": name, "description": description, "unit": unit, "sum": body}


def instrument_metrics(instruments, taken, now):
    """User counters (monotonic sums), gauges and histograms, one metric per name and kind."""
    metrics, order = {}, []
    for inst in instruments:
        kind = inst.get("kind") if inst.get("kind") in ("counter", "gauge", "histogram") else "gauge"
        key = (inst.get("name", ""), kind)
        if key not in metrics:
            metrics[key] = {
                "name": _unique(metric_name(key[0]), taken),
                "description": inst.get("help") or "",
                "kind": kind,
                "points": [],
            }
            order.append(key)
        metrics[key]["points"].append(_instrument_point(inst, kind, now))
    return [_instrument_metric(metrics[key]) for key in order]


def _instrument_point(inst, kind, now):
    attrs = {str(k): "" if v is None else v for k, v in (inst.get("labels") or {}).items()}
    start = inst.get("created_ts") if inst.get("created_ts") is not None else now
    if kind == "histogram":
        return histogram_point(attrs, start, now, inst.get("sketch") or Sketch(), LE_BOUNDS)
    point = number_point(attrs, start, now, float(inst.get("value") or 0.0))
    if kind == "gauge":
        del point["startTimeUnixNano"]
    return point


def _instrument_metric(spec):
    name, description, kind, points = spec["name"], spec["description"], spec["kind"], spec["points"]
    if kind == "histogram":
        return histogram(name, description, "", points)
    if kind == "counter":
        return cumulative_sum(name, description, "", points)
    return {"name": name, "description": description, "unit": "", "gauge": {"dataPoints": points}}


def metric_name(name):
    """A user instrument name as an OTel instrument name: a letter first, then [A-Za-z0-9_.-/], <= 255."""
    clean = _BAD_NAME_CHARS.sub("_", str(name))
    if not clean[:1].isalpha() or not clean[:1].isascii():
        clean = "devkit_" + clean
    return clean[:MAX_NAME_CHARS]


def _unique(name, taken):
    while name in taken:
        name = name[: MAX_NAME_CHARS - 1] + "_"
    taken.add(name)
    return name

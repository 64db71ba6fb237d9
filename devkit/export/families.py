"""The metric families a snapshot exposes to Prometheus: built-in series plus user instruments."""

import re
from bisect import bisect_right

from devkit.core.sketch import BUCKETS, Sketch, bucket_slot, slot_value
from devkit.snapshot import PERCENTILES

# Fixed histogram bounds (seconds for durations); wide enough for slow LLM calls.
LE_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
QUANTILES = tuple(q for _name, q in PERCENTILES)
_SLOT_VALUES = [slot_value(s) for s in range(BUCKETS)]
# A sketch slot counts below a bound when its representative value is <= the bound.
_CUTS = tuple(bisect_right(_SLOT_VALUES, bound) for bound in LE_BOUNDS)
_BAD_METRIC_CHARS = re.compile(r"[^a-zA-Z0-9_:]")
_BAD_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")
_RESERVED_LABELS = {"histogram": ("le",), "summary": ("quantile",)}


class Family:
    """One metric family: base name, kind, help, unit and its series by label tuple."""

    __slots__ = ("name", "kind", "help", "unit", "series")

    def __init__(self, name, kind, help_text, unit=""):
        self.name = name
        self.kind = kind
        self.help = help_text
        self.unit = unit
        self.series = {}

    def add(self, labels, value, created=None):
        """Add ``value`` (number or Sketch) to the series ``labels``; the earliest created wins."""
        old = self.series.get(labels)
        if old is None:
            self.series[labels] = [value, created]
            return
        if isinstance(value, Sketch):
            # Merge into a fresh sketch: the snapshot's own sketches must stay untouched.
            old[0] = Sketch().merge(old[0]).merge(value)
        elif self.kind == "gauge":
            old[0] = value
        else:
            old[0] += value
        if created is not None and (old[1] is None or created < old[1]):
            old[1] = created

    def sample_names(self):
        """Every sample name this family writes (to keep names unique across families)."""
        base = self.name
        if self.kind == "counter":
            return {base, base + "_total", base + "_created"}
        if self.kind == "gauge":
            return {base}
        return {base, base + "_bucket", base + "_sum", base + "_count", base + "_created"}


def cumulative_buckets(sketch):
    """Counts of values <= each bound in LE_BOUNDS (cumulative), then the total for +Inf."""
    total = sketch.count
    if not total:
        return [0] * (len(_CUTS) + 1)
    low = bucket_slot(sketch.min)
    high = bucket_slot(sketch.max)
    counts = sketch.counts
    out = []
    running = 0
    start = low
    for cut in _CUTS:
        if cut <= low:
            out.append(0)
        elif cut > high:
            out.append(total)
        else:
            running += sum(counts[start:cut])
            start = cut
            out.append(running)
    out.append(total)
    return out


def builtin_families(breakdown):
    """Operations, tokens, cost, cache lookups, the duration histogram and the latency summary."""
    ops = Family("devkit_operations", "counter", "Operations finished, by operation, model and status.")
    tokens = Family(
        "devkit_tokens", "counter", "Tokens used, by operation, model and kind (prompt|completion)."
    )
    cost = Family("devkit_cost", "counter", "Estimated cost in US dollars, by operation and model.")
    cache = Family(
        "devkit_cache_lookups", "counter", "Cache lookups, by operation, model and result (hit|miss)."
    )
    duration = Family("devkit_operation_duration_seconds", "histogram", "Operation duration.", "seconds")
    latency = Family(
        "devkit_operation_latency_seconds",
        "summary",
        "Operation latency percentiles (0.75% rel. error).",
        "seconds",
    )
    for row in breakdown:
        op, model = str(row.get("operation") or ""), _model_label(row.get("model"))
        created = row.get("created_ts")
        key = (("operation", op), ("model", model), ("status", str(row.get("status") or "")))
        ops.add(key, row.get("count", 0), created)
        for kind in ("prompt", "completion"):
            tokens.add(key[:2] + (("kind", kind),), row.get(kind + "_tokens", 0) or 0, created)
        cost.add(key[:2], row.get("cost", 0.0) or 0.0, created)
        if row.get("cache_hits") or row.get("cache_misses"):
            for result, field in (("hit", "cache_hits"), ("miss", "cache_misses")):
                cache.add(key[:2] + (("result", result),), row.get(field, 0) or 0, created)
        sketch = row.get("sketch") or Sketch()
        duration.add(key, sketch, created)
        latency.add(key, sketch, created)
    return [
        f for f in (ops, tokens, cost, cache, duration, latency) if f.series or f is ops
    ] + stream_families(breakdown)


def stream_families(breakdown):
    """Cached/reasoning token counters, TTFT and time-per-chunk histograms, output tokens/s summary (when recorded)."""
    detail = Family(
        "devkit_token_details",
        "counter",
        "Tokens that are part of the prompt or completion counts, by kind (cached_prompt|reasoning).",
    )
    first = Family(
        "devkit_time_to_first_token_seconds", "histogram", "Time to the first streamed chunk.", "seconds"
    )
    chunk = Family(
        "devkit_time_per_output_chunk_seconds",
        "histogram",
        "Time between streamed chunks after the first (per-call mean).",
        "seconds",
    )
    speed = Family(
        "devkit_output_tokens_per_second",
        "summary",
        "Output tokens per second after the first token, per call (0.75% rel. error).",
    )
    for row in breakdown:
        key = (
            ("operation", str(row.get("operation") or "")),
            ("model", _model_label(row.get("model"))),
            ("status", str(row.get("status") or "")),
        )
        created = row.get("created_ts")
        for kind in ("cached_prompt", "reasoning"):
            if row.get(kind + "_tokens"):
                detail.add(key[:2] + (("kind", kind),), row[kind + "_tokens"], created)
        for family, name in ((first, "ttft"), (chunk, "tpot"), (speed, "tps")):
            if row.get(name) is not None and row[name].count:
                family.add(key, row[name], created)
    return [f for f in (detail, first, chunk, speed) if f.series]


def _model_label(model):
    return "" if model is None else str(model)


def sanitize_metric_name(name):
    """Map any text onto [a-zA-Z_:][a-zA-Z0-9_:]* (invalid characters become '_')."""
    clean = _BAD_METRIC_CHARS.sub("_", str(name)) or "_"
    return "_" + clean if clean[0].isdigit() else clean


def sanitize_label_name(name, kind):
    """Map a label key onto [a-zA-Z_][a-zA-Z0-9_]*, avoiding '__' prefixes and reserved names."""
    clean = _BAD_LABEL_CHARS.sub("_", str(name)) or "_"
    if clean[0].isdigit():
        clean = "_" + clean
    if clean.startswith("__"):
        clean = "_" + clean.lstrip("_")
    if clean in _RESERVED_LABELS.get(kind, ()):
        clean = "_" + clean
    return clean


def instrument_families(instruments, taken):
    """User instruments grouped into families with sanitized, unique names; ``taken`` grows."""
    families, memo = {}, {}
    for inst in instruments:
        kind = inst.get("kind") if inst.get("kind") in ("counter", "gauge", "histogram") else "gauge"
        family = _family_for(families, memo, inst, kind)
        labels = _labels(inst.get("labels") or {}, kind, memo)
        value = (inst.get("sketch") or Sketch()) if kind == "histogram" else float(inst.get("value") or 0.0)
        family.add(labels, value, inst.get("created_ts"))
    ordered = sorted(families.values(), key=lambda f: (f.name, f.kind))
    for family in ordered:
        _make_unique(family, taken)
    return ordered


def _family_for(families, memo, inst, kind):
    name = inst.get("name", "")
    base = memo.get((name, None))
    if base is None:
        base = memo[(name, None)] = sanitize_metric_name(name)
    if kind == "counter" and base.endswith("_total") and len(base) > 6:
        base = base[:-6]
    family = families.get((base, kind))
    if family is None:
        family = families[(base, kind)] = Family(base, kind, inst.get("help") or f"devkit {kind} {base}")
    return family


def _labels(raw, kind, memo):
    pairs = {}
    for key in sorted(raw, key=str):
        name = memo.get((key, kind))
        if name is None:
            name = memo[(key, kind)] = sanitize_label_name(key, kind)
        while name in pairs:
            name += "_"
        pairs[name] = "" if raw[key] is None else str(raw[key])
    return tuple(pairs.items())


def _make_unique(family, taken):
    base, n = family.name, 1
    while family.sample_names() & taken:
        n += 1
        family.name = f"{base}_{n}"
    taken.update(family.sample_names())


def all_families(snapshot):
    """Built-in families then user instruments, every sample name unique."""
    builtins = builtin_families(snapshot.breakdown)
    taken = set()
    for family in builtins:
        taken.update(family.sample_names())
    return builtins + instrument_families(snapshot.instruments, taken)

"""The Markdown report: summary, activity sparklines, tokens and cost per model, latency, errors, failures."""

import re

from devkit import charts, units
from devkit.export.common import iso, latency_ms, series_rows
from devkit.term import printable

RECENT_FAILURES = 20
BAR_WIDTH = 12
SPARK_WIDTH = 60
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def cell(value):
    """Text safe inside a table cell: Markdown punctuation escaped, line breaks as <br>."""
    if value is None:
        return "-"
    text = _SPECIAL.sub(r"\\\1", str(value))
    return printable(text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>"))


def table(headers, rows, align):
    """A GitHub/CommonMark pipe table; ``align`` holds 'l' or 'r' per column."""
    marks = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _model(model):
    return "(none)" if model is None else str(model)


def render_markdown(snapshot, ascii=False):
    """Yield the report section by section."""
    yield _header(snapshot)
    yield _summary(snapshot)
    yield _activity(snapshot, ascii)
    yield _per_model(snapshot, ascii)
    yield _latency(snapshot)
    yield _streaming(snapshot)
    yield _errors(snapshot)
    yield _failures(snapshot)


def _header(snapshot):
    title = "# devkit report" + (f" — {cell(snapshot.project)}" if snapshot.project else "")
    since = iso(snapshot.since_ts) or "all data"
    return (
        f"{title}\n\nGenerated {iso(snapshot.generated_at)} by devkit {snapshot.version}; "
        f"covers {since} to then.\n"
    )


def _summary(snapshot):
    totals, stats = snapshot.totals, latency_ms(snapshot.latency)
    requests = totals.get("requests") or 0
    error_rate = units.percent(totals.get("errors", 0) / requests) if requests else "-"
    lookups = (totals.get("cache_hits") or 0) + (totals.get("cache_misses") or 0)
    hit_rate = units.percent(totals.get("cache_hits", 0) / lookups) if lookups else "-"
    rows = [
        ("Requests", units.count(requests)),
        ("Errors", f"{units.count(totals.get('errors'))} ({error_rate})"),
        ("Prompt tokens", units.count(totals.get("prompt_tokens"))),
        ("Completion tokens", units.count(totals.get("completion_tokens"))),
        ("Total tokens", units.count(totals.get("total_tokens"))),
        ("Cost (USD)", units.usd(totals.get("cost"))),
        ("Cache hit rate", hit_rate),
        (
            "Latency p50 / p95 / p99 (ms)",
            " / ".join(units.ms(stats[k]) for k in ("p50_ms", "p95_ms", "p99_ms")),
        ),
    ]
    return "\n## Summary\n\n" + table(["Metric", "Value"], rows, "lr") + "\n"


def _activity(snapshot, ascii):
    points = snapshot.history
    if not points:
        return "\n## Activity\n\nNo activity in this range.\n"
    step = snapshot.history_resolution_s
    rows = []
    for label, key in (("Requests", "requests"), ("Errors", "errors"), ("p95 latency (ms)", "p95_ms")):
        values = [p.get(key) for p in points]
        present = [v for v in values if v is not None]
        spark = charts.sparkline(values, ascii=ascii, width=SPARK_WIDTH)
        rows.append(
            (
                label,
                f"`{spark}`",
                units.ms(max(present)) if present and key == "p95_ms" else units.count(max(present or [0])),
            )
        )
    intro = f"\n## Activity\n\n{len(points)} intervals of {step} s from {iso(points[0]['ts'])}.\n\n"
    return intro + table(["Series", "Trend", "Peak"], rows, "llr") + "\n"


def _per_model(snapshot, ascii):
    models = {}
    for row in snapshot.breakdown:
        entry = models.setdefault(row.get("model"), [0, 0, 0, 0.0])
        entry[0] += row.get("count") or 0
        entry[1] += row.get("prompt_tokens") or 0
        entry[2] += row.get("completion_tokens") or 0
        entry[3] += row.get("cost") or 0.0
    if not models:
        return "\n## Tokens and cost per model\n\nNo operations.\n"
    peak = max(p + c for _, p, c, _ in models.values())
    rows = []
    for model, (count, prompt, completion, cost) in sorted(
        models.items(), key=lambda kv: -(kv[1][1] + kv[1][2])
    ):
        share = charts.bar(prompt + completion, peak, BAR_WIDTH, ascii=ascii).rstrip()
        rows.append(
            (
                cell(_model(model)),
                units.count(count),
                units.count(prompt),
                units.count(completion),
                units.count(prompt + completion),
                f"`{share}`" if share else "",
                units.usd(cost),
            )
        )
    headers = ["Model", "Requests", "Prompt", "Completion", "Total", "Tokens", "Cost (USD)"]
    return "\n## Tokens and cost per model\n\n" + table(headers, rows, "lrrrrlr") + "\n"


def _latency(snapshot):
    rows = [
        (
            cell(r["operation"]),
            cell(_model(r["model"])),
            cell(r["status"]),
            units.count(r["count"]),
            units.ms(r["p50_ms"]),
            units.ms(r["p90_ms"]),
            units.ms(r["p95_ms"]),
            units.ms(r["p99_ms"]),
            units.ms(r["max_ms"]),
        )
        for r in series_rows(snapshot)
    ]
    if not rows:
        return "\n## Latency percentiles\n\nNo operations.\n"
    headers = ["Operation", "Model", "Status", "Count", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"]
    return "\n## Latency percentiles\n\n" + table(headers, rows, "lllrrrrrr") + "\n"


def _streaming(snapshot):
    rows = [
        (
            cell(_model(r["model"])),
            units.ms(r["ttft_p50_ms"]),
            units.ms(r["ttft_p95_ms"]),
            units.ms(r["time_per_chunk_p50_ms"]),
            units.rate(r["tokens_per_s_p50"]),
            units.rate(r["tokens_per_s_p95"]),
            units.count(r["cached_prompt_tokens"]),
            units.count(r["reasoning_tokens"]),
        )
        for r in snapshot.model_rows()
        if r["ttft_p50_ms"] is not None or r["cached_prompt_tokens"] or r["reasoning_tokens"]
    ]
    if not rows:
        return ""
    headers = [
        "Model",
        "TTFT p50 ms",
        "TTFT p95 ms",
        "ms per chunk",
        "Tokens/s p50",
        "Tokens/s p95",
        "Cached prompt",
        "Reasoning",
    ]
    return "\n## Streaming and token detail per model\n\n" + table(headers, rows, "lrrrrrrr") + "\n"


def _errors(snapshot):
    per_op = {}
    for row in snapshot.breakdown:
        key = (row.get("operation"), row.get("model"))
        entry = per_op.setdefault(key, [0, 0])
        entry[0] += row.get("count") or 0
        entry[1] += (row.get("count") or 0) if row.get("status") == "error" else 0
    failing = sorted(
        ((k, v) for k, v in per_op.items() if v[1]), key=lambda kv: (str(kv[0][0]), _model(kv[0][1]))
    )
    if not failing:
        return "\n## Errors\n\nNo errors.\n"
    rows = [
        (cell(op), cell(_model(model)), units.count(errors), units.percent(errors / count))
        for (op, model), (count, errors) in failing
    ]
    text = "\n## Errors\n\n" + table(["Operation", "Model", "Errors", "Error rate"], rows, "llrr") + "\n"
    return text + _error_types(snapshot)


def _error_types(snapshot):
    rows = snapshot.error_type_rows()
    total = sum(r["count"] for r in rows)
    if not total:
        return ""
    cells = [(cell(error_name(r)), units.count(r["count"]), units.percent(r["count"] / total)) for r in rows]
    return "\n## Errors by type\n\n" + table(["Error type", "Errors", "Share"], cells, "lrr") + "\n"


def error_name(row):
    """The label of one error-type row; shared with the status screen."""
    if row.get("other"):
        return "(older or not kept)"
    return row["error"] or "(no error type)"


def _failures(snapshot):
    failures = [op for op in snapshot.recent if op.get("status") == "error"][:RECENT_FAILURES]
    if not failures:
        return "\n## Recent failures\n\nNone.\n"
    rows = [
        (
            cell(iso(op.get("ts"))),
            cell(op.get("operation")),
            cell(_model(op.get("model"))),
            units.ms(op.get("duration_ms")),
            cell(op.get("error")),
        )
        for op in failures
    ]
    headers = ["Time (UTC)", "Operation", "Model", "Duration ms", "Error"]
    return "\n## Recent failures\n\n" + table(headers, rows, "lllrl") + "\n"

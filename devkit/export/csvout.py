"""RFC 4180 CSV exports: one row per series and interval, and the raw operations (streamed)."""

import csv
import io
import json

from devkit.core.records import OPERATION_FIELDS, SUM_FIELDS
from devkit.export.common import (
    PERCENTILES,
    STREAM_KEYS,
    distribution,
    history_runs,
    iso,
    labels_json,
    series_rows,
)

SERIES_COLUMNS = (
    "record",
    "start_ts",
    "end_ts",
    "start_utc",
    "end_utc",
    "operation",
    "model",
    "status",
    "name",
    "kind",
    "labels",
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "cache_hits",
    "cache_misses",
    "value",
    "sum",
    "unit",
    "p50",
    "p90",
    "p95",
    "p99",
    "cached_prompt_tokens",
    "reasoning_tokens",
) + STREAM_KEYS
OPERATION_COLUMNS = OPERATION_FIELDS[:2] + ("time_utc",) + OPERATION_FIELDS[2:]
ROWS_PER_CHUNK = 1000


def _writer():
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\r\n")


def _drain(buffer):
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def stream_rows(columns, rows):
    """Yield CSV text: the header, then ``rows`` (iterables of values) in chunks of ROWS_PER_CHUNK."""
    buffer, writer = _writer()
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def render_series_csv(snapshot):
    """Yield the series CSV: whole-range rows per (operation, model, status), history points, instruments."""
    rows = (_ordered(SERIES_COLUMNS, record) for record in _series_records(snapshot))
    return stream_rows(SERIES_COLUMNS, rows)


def _ordered(columns, record):
    return [_cell(record.get(column)) for column in columns]


def _series_records(snapshot):
    start = snapshot.since_ts if snapshot.since_ts is not None else snapshot.totals.get("first_ts")
    end = snapshot.generated_at
    for row in series_rows(snapshot):
        record = _interval("series", start, end)
        record.update((k, row[k]) for k in ("operation", "model", "status") + SUM_FIELDS + STREAM_KEYS)
        record.update(
            requests=row["count"], errors=row["count"] if row["status"] == "error" else 0, unit="ms"
        )
        record.update((name, row[name + "_ms"]) for name, _ in PERCENTILES)
        yield record
    for point in history_runs(snapshot):
        record = _interval("history", point["ts"], point["end_ts"])
        record.update(
            (k, point.get(k)) for k in ("requests", "errors", "prompt_tokens", "completion_tokens", "cost")
        )
        record.update((name, point.get(name + "_ms")) for name, _ in PERCENTILES)
        record["unit"] = "ms"
        yield record
    for inst in snapshot.instruments:
        yield _instrument_record(inst, end)


def _interval(kind, start, end):
    return {"record": kind, "start_ts": start, "end_ts": end, "start_utc": iso(start), "end_utc": iso(end)}


def _instrument_record(inst, end):
    record = _interval("instrument", inst.get("created_ts"), end)
    record.update(name=inst.get("name"), kind=inst.get("kind"), labels=labels_json(inst.get("labels")))
    sketch = inst.get("sketch")
    if sketch is None:
        record["value"] = inst.get("value")
        return record
    stats = distribution(sketch)
    record.update(requests=stats["count"], sum=stats["sum"])
    record.update((name, stats[name]) for name, _ in PERCENTILES)
    return record


def _cell(value):
    """None as empty; booleans as true/false; everything else exactly as str() spells it."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return value


def render_operations_csv(snapshot):
    """Yield the operations CSV, streaming the journal oldest first (memory stays flat)."""
    return stream_rows(OPERATION_COLUMNS, (_operation_row(op) for op in snapshot.operations()))


def _operation_row(op):
    detail = op.get("detail")
    if detail is not None and not isinstance(detail, str):
        detail = json.dumps(detail, sort_keys=True, ensure_ascii=False)
    return [
        _cell(op.get("id")),
        _cell(op.get("ts")),
        iso(op.get("ts")) or "",
        _cell(op.get("operation")),
        _cell(op.get("model")),
        _cell(op.get("status")),
        _cell(op.get("duration_ms")),
        _cell(op.get("prompt_tokens")),
        _cell(op.get("completion_tokens")),
        _cell(op.get("cache_hit")),
        _cell(op.get("cost")),
        _cell(op.get("error")),
        _cell(detail),
        labels_json(op.get("labels")),
        _cell(op.get("cached_prompt_tokens")),
        _cell(op.get("reasoning_tokens")),
        _cell(op.get("ttft_ms")),
        _cell(op.get("chunks")),
    ]

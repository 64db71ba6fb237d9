"""JSON, CSV and Markdown exports of real Snapshot objects: exact values, escaping, valid documents."""

import csv
import io
import json
import re

import pytest

from devkit.errors import UsageError
from devkit.export import FORMATS, check_format, render
from devkit.export.csvout import OPERATION_COLUMNS, SERIES_COLUMNS
from devkit.export.markdown import cell
from devkit.snapshot import Snapshot
from tests.unit._export_helpers import HOSTILE, breakdown_row, sketch_of

NAMES = ["comma, name", 'quote " name', "new\nline", "crlf\r\nname", "ünï ☃", "pipe | name"]


def _operations():
    ops = []
    for i, name in enumerate(NAMES):
        ops.append(
            {
                "id": f'id-{i},"x"',
                "ts": 1700000000.123456 + i,
                "operation": name,
                "model": None if i % 2 else name,
                "status": "error" if i % 3 == 0 else "ok",
                "duration_ms": 12.345678901234 * (i + 1),
                "prompt_tokens": i,
                "completion_tokens": 2 * i,
                "cache_hit": [None, True, False][i % 3],
                "cost": 0.1 + 0.2 * i,
                "error": name if i % 3 == 0 else None,
                "detail": {"k": name},
                "labels": {"tenant": name},
                "cached_prompt_tokens": i // 2,
                "reasoning_tokens": i,
                "ttft_ms": None if i % 2 else 1.5 * i,
                "chunks": None if i % 2 else i + 1,
            }
        )
    return ops


def _snapshot():
    breakdown = [
        breakdown_row(
            name,
            HOSTILE[i % len(HOSTILE)],
            "error" if i % 2 else "ok",
            [0.1 * (i + 1), 0.5],
            prompt_tokens=10 * i,
            completion_tokens=3,
            cost=0.1 + i / 3.0,
            cache_hits=i,
        )
        for i, name in enumerate(NAMES)
    ]
    history = [
        {
            "ts": 1700000000 + 60 * k,
            "requests": k,
            "errors": k % 2,
            "prompt_tokens": k * 3,
            "completion_tokens": 1,
            "cost": k / 7.0,
            "p50_ms": None if k == 0 else 12.5 * k,
            "p95_ms": 20.0,
            "p99_ms": 30.0,
        }
        for k in range(5)
    ]
    instruments = [
        {
            "name": "queue, depth",
            "kind": "gauge",
            "help": "h",
            "labels": {"q": 'a"b\nc'},
            "value": 1 / 3.0,
            "sketch": None,
            "created_ts": 1700000000.5,
        },
        {
            "name": "step\nseconds",
            "kind": "histogram",
            "help": "h",
            "labels": {},
            "value": 0.0,
            "sketch": sketch_of([0.1, 0.2]),
            "created_ts": None,
        },
    ]
    ops = _operations()
    return Snapshot(
        generated_at=1700000400.25,
        since_ts=1700000000.0,
        breakdown=breakdown,
        instruments=instruments,
        history=history,
        history_resolution_s=60,
        recent=list(reversed(ops)),
        totals={
            "requests": 12,
            "errors": 6,
            "prompt_tokens": 150,
            "completion_tokens": 18,
            "total_tokens": 168,
            "cost": 5.6,
            "cache_hits": 15,
            "cache_misses": 0,
            "first_ts": 1700000000.1,
            "last_ts": 1700000300.0,
        },
        operations=lambda since: iter(ops),
        project="demo | proj",
    )


def _text(fmt, **kwargs):
    return "".join(render(_snapshot(), fmt, **kwargs))


def _csv_rows(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def _expected(value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def test_operations_csv_round_trips_every_value_exactly():
    text = _text("csv", operations=True)
    assert "\r\n" in text and text.endswith("\r\n")
    rows = _csv_rows(text)
    assert tuple(rows[0]) == OPERATION_COLUMNS
    ops = _operations()
    assert len(rows) == len(ops) + 1
    for op, row in zip(ops, rows[1:]):
        got = dict(zip(OPERATION_COLUMNS, row))
        for field in OPERATION_COLUMNS:
            if field == "time_utc":
                continue
            want = op[field]
            if field == "detail":
                want = json.dumps(want, sort_keys=True, ensure_ascii=False)
            assert got[field] == _expected(want), field
        assert float(got["ts"]) == op["ts"] and float(got["cost"]) == op["cost"]


def test_series_csv_has_stable_columns_and_exact_values():
    rows = _csv_rows(_text("csv"))
    assert tuple(rows[0]) == SERIES_COLUMNS
    records = [dict(zip(SERIES_COLUMNS, r)) for r in rows[1:]]
    series = [r for r in records if r["record"] == "series"]
    assert sorted(r["operation"] for r in series) == sorted(NAMES)
    by_name = {r["operation"]: r for r in series}
    for i, name in enumerate(NAMES):
        assert by_name[name]["cost"] == str(0.1 + i / 3.0)
        assert by_name[name]["model"] == HOSTILE[i % len(HOSTILE)]
        assert by_name[name]["start_ts"] == "1700000000.0" and by_name[name]["end_ts"] == "1700000400.25"
    history = [r for r in records if r["record"] == "history"]
    assert [r["cost"] for r in history] == [str(k / 7.0) for k in range(5)]
    assert history[0]["p50"] == "" and history[1]["p50"] == "12.5" and history[1]["unit"] == "ms"
    instruments = [r for r in records if r["record"] == "instrument"]
    assert instruments[0]["name"] == "queue, depth" and instruments[0]["value"] == str(1 / 3.0)
    assert json.loads(instruments[0]["labels"]) == {"q": 'a"b\nc'}
    assert instruments[1]["name"] == "step\nseconds" and instruments[1]["requests"] == "2"


def test_json_export_is_one_valid_document_with_metadata():
    data = json.loads(_text("json"))
    meta = data["metadata"]
    assert meta["generated_at"] == 1700000400.25 and meta["since"] == 1700000000.0
    assert meta["devkit_version"] and meta["project"] == "demo | proj"
    assert data["totals"]["requests"] == 12
    assert data["percentiles"]["count"] == 12 and data["percentiles"]["p50_ms"] > 0
    assert {s["operation"] for s in data["series"]} == set(NAMES)
    assert len(data["history"]) == 5 and len(data["recent"]) == len(NAMES)
    assert data["instruments"][1]["count"] == 2 and "sketch" not in data["instruments"][1]


def test_json_turns_non_finite_numbers_into_null():
    snapshot = Snapshot(generated_at=1.0, totals={"requests": 0, "cost": float("nan")})
    data = json.loads("".join(render(snapshot, "json")))
    assert data["totals"]["cost"] is None


def _table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_markdown_cells_escape_pipes_and_newlines_so_tables_keep_their_shape():
    text = _text("md")
    assert "pipe \\| name" in text and "new<br>line" in text
    for block in text.split("\n## ")[1:]:
        rows = _table_rows(block)
        if rows:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, block


def test_markdown_has_every_section_and_sparklines():
    text = _text("md")
    for heading in (
        "# devkit report",
        "## Summary",
        "## Activity",
        "## Tokens and cost per model",
        "## Latency percentiles",
        "## Errors",
        "## Recent failures",
    ):
        assert heading in text
    assert "▁" in text and "█" in text


def test_markdown_ascii_fallback_draws_the_same_charts_in_ascii():
    text, unicode_text = _text("md", ascii=True), _text("md")
    assert "| Requests | `_-=+#` | 4 |" in text and "| Errors | `_#_#_` | 1 |" in text
    charts = [line.split("`")[1] for line in text.splitlines() if "`" in line]
    assert charts and all(chart.isascii() for chart in charts)
    assert [line for line in text.splitlines() if "`" not in line] == [
        line for line in unicode_text.splitlines() if "`" not in line
    ]


@pytest.mark.parametrize(
    "value, want", [("a|b", "a\\|b"), ("x\ny", "x<br>y"), ("*b*", "\\*b\\*"), (None, "-")]
)
def test_markdown_cell_escaping(value, want):
    assert cell(value) == want


def test_unknown_format_is_a_usage_error():
    assert set(FORMATS) == {"json", "csv", "md", "prom", "openmetrics", "otlp"}
    with pytest.raises(UsageError, match="^unknown format 'xml'"):
        check_format("xml")

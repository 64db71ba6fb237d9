"""Ten events make a small export: empty history intervals are summarised, not listed one by one."""

import csv
import io
import json

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from tests.golden_screens.conftest import run_screen
from tests.integration._store_helpers import record, write_config

NOW = 1_780_000_000.0
# Ten events half an hour apart over the last five and a half hours: minute history, 331 intervals.
EVENTS = [NOW - 5.5 * 3600 + 1800 * i for i in range(10)]


@pytest.fixture(scope="module")
def ten_events(tmp_path_factory):
    """A project whose store holds exactly ten operations."""
    root = tmp_path_factory.mktemp("ten")
    write_config(root)
    with Store(root / ".devkit" / "devkit.db", clock=lambda: NOW) as store:
        store.write_batch(Batch([record(i, ts, prompt=i, completion=2 * i) for i, ts in enumerate(EVENTS)]))
    return root


def _export(root, fmt):
    return run_screen(root, ["metrics", "export", "--format", fmt], "80", now=NOW)


def test_ten_events_export_as_a_small_csv(ten_events):
    text = _export(ten_events, "csv")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    history = [r for r in rows if r["record"] == "history"]
    # Ten busy minutes and the ten quiet stretches after them (the first event starts the range).
    assert text.count("\r\n") == 1 + 1 + 20 and len(history) == 20
    assert sum(int(r["requests"]) for r in history) == 10
    assert [int(r["requests"]) for r in history] == [1, 0] * 10
    quiet = history[1]
    assert (float(quiet["end_ts"]) - float(quiet["start_ts"])) == 29 * 60
    assert float(history[0]["start_ts"]) == EVENTS[0] // 60 * 60
    assert float(history[-1]["end_ts"]) == NOW // 60 * 60 + 60
    spans = [(float(r["start_ts"]), float(r["end_ts"])) for r in history]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), "intervals must tile the range without gaps"


def test_ten_events_export_as_a_small_json(ten_events):
    text = _export(ten_events, "json")
    data = json.loads(text)
    assert len(text) < 15_000 and len(data["history"]) == 20
    assert [p["intervals"] for p in data["history"]] == [1, 29] * 9 + [1, 60]
    assert [p["requests"] for p in data["history"]] == [1, 0] * 10
    assert all(p["end_ts"] - p["ts"] == 60 * p["intervals"] for p in data["history"])
    assert sum(p["intervals"] for p in data["history"]) == 331


def test_the_markdown_report_stays_short(ten_events):
    text = _export(ten_events, "md")
    assert len(text.splitlines()) < 60 and "331 intervals of 60 s" in text

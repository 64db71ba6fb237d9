"""The one read model: ``devkit.snapshot.take`` and every reader built on it agree."""

import io
import json
import os

import pytest

from devkit.config import load_config
from devkit.context import Context
from devkit.errors import UsageError
from devkit.snapshot import HISTORY_MAX_POINTS, Snapshot, take
from devkit.store import Store
from tests.conftest import clean_env, run_in_process
from tests.golden_screens.conftest import screens_project  # noqa: F401 - a fixture
from tests.integration._store_helpers import record, write_config

NOW = 1_780_000_000.0


def run_at(root, *argv):
    """Run the CLI in-process with the clock fixed at NOW; return (code, stdout, stderr)."""
    result = run_in_process(argv, root, clock=lambda: NOW)
    return result.code, result.out, result.err


@pytest.fixture
def project(tmp_path):
    """A project whose store holds a few operations written through Store.write_batch."""
    from devkit.core.records import Batch

    write_config(tmp_path, [{"name": "llama3", "provider": "ollama", "url": "http://127.0.0.1:9"}])
    records = [
        record(i, NOW - 900 + 30 * i, duration_ms=20.0 * (i + 1), prompt=i, completion=2 * i)
        for i in range(20)
    ]
    records.append(record(99, NOW - 5, operation="embed", model=None, status="error", duration_ms=2000.0))
    with Store(tmp_path / ".devkit" / "devkit.db", clock=lambda: NOW) as store:
        store.write_batch(Batch(records))
    return tmp_path


def test_to_dict_is_exactly_what_status_json_prints(project):
    cfg = load_config(cwd=str(project), env=clean_env())
    code, out, err = run_at(project, "status", "--json")
    assert code == 0, err
    assert json.loads(out) == json.loads(json.dumps(take(cfg, "all", NOW).to_dict()))


def test_without_a_store_take_is_empty_and_creates_nothing(tmp_path):
    write_config(tmp_path)
    cfg = load_config(cwd=str(tmp_path), env=clean_env())
    data = take(cfg, "all", NOW).to_dict()
    assert data["totals"]["requests"] == 0 and data["history"] == [] and data["store"]["exists"] is False
    assert not os.path.exists(tmp_path / ".devkit")


def test_a_huge_since_gives_a_bounded_history(project):
    cfg = load_config(cwd=str(project), env=clean_env())
    snapshot = take(cfg, "3650d", NOW)
    # History spans the data's own range (15 minutes at 10 s), not ten years of gaps.
    assert snapshot.history_resolution_s == 10 and len(snapshot.history) == 91
    assert sum(p["requests"] for p in snapshot.history) == snapshot.totals["requests"] == 21
    code, out, err = run_at(project, "metrics", "export", "--since", "3650d", "--format", "csv")
    assert code == 0, err
    assert out.count("\r\n") < 200 and len(out) < 50_000
    assert len(take(cfg, "3650d", NOW).history) <= HISTORY_MAX_POINTS


def test_any_since_and_recent_limit_are_safe(project):
    cfg = load_config(cwd=str(project), env=clean_env())
    snapshot = take(cfg, "3650d", NOW, recent_limit=10**20)
    assert (
        snapshot.since_ts == NOW - 3650 * 86400
        and snapshot.totals["requests"] == 21
        and len(snapshot.recent) == 21
    )
    for since in ("100000d", "1000000d", "9" * 400):
        code, out, err = run_at(project, "metrics", "export", "--since", since, "--format", "md")
        # Either the span is accepted (and the report is the whole, small history) or refused in one line.
        if code == 0:
            assert "| Requests | 21 |" in out and "91 intervals of 10 s" in out and len(out) < 20_000
        else:
            assert (
                (code, out) == (2, "") and err.startswith("devkit: error: --since:") and err.count("\n") == 1
            )


def test_a_bad_since_names_the_flag_only_in_the_command(project):
    cfg = load_config(cwd=str(project), env=clean_env())
    with pytest.raises(UsageError, match="^since: expected a duration"):
        take(cfg, "yesterday", NOW)
    for argv in (["status"], ["metrics"], ["metrics", "tokens"], ["metrics", "export"]):
        code, out, err = run_at(project, *argv, "--since", "yesterday")
        assert (code, out) == (2, "") and err.startswith("devkit: error: --since: expected a duration"), argv


def test_status_shows_what_the_store_could_not_keep():
    from devkit.commands.status import render

    ctx = Context(stdout=io.StringIO(), env={}, stdout_isatty=False)
    info = {
        "path": "/s/devkit.db",
        "size_bytes": 2048,
        "operations": 7,
        "exists": True,
        "operations_not_kept": 1200,
        "records_dropped": 2,
    }
    lines = render(ctx, Snapshot(NOW, store=info).to_dict()).splitlines()
    assert (
        "store      /s/devkit.db   2.0 KB   7 operations   (1,200 operations not kept, 2 records dropped)"
        in lines
    )
    info.pop("records_dropped")
    info["operations_not_kept"] = 0
    lines = render(ctx, Snapshot(NOW, store=info).to_dict()).splitlines()
    assert "store      /s/devkit.db   2.0 KB   7 operations" in lines


def test_history_range_follows_the_data_and_stays_small():
    from devkit.snapshot import history_range

    assert history_range(None, NOW - 7 * 86400, NOW) == (3600, NOW - 86400)
    assert history_range(NOW - 7200, NOW - 9000, NOW) == (60, NOW - 7200)
    assert history_range(NOW - 86400 * 100000, NOW - 600, NOW) == (10, NOW - 600)
    assert history_range(0.0, 0.0, NOW) == (3600, NOW - 3600 * (HISTORY_MAX_POINTS - 1))


def test_status_json_adds_models_error_types_and_the_last_health_run(screens_project):
    from tests.golden_screens.conftest import NOW as SCREENS_NOW
    from tests.golden_screens.conftest import run_screen

    data = json.loads(run_screen(screens_project, ["status", "--json"], "80", now=SCREENS_NOW))
    assert data["error_types"] == [
        {"error": "TimeoutError", "count": 4},
        {"error": "RateLimitError", "count": 2},
        {"error": None, "count": 1},
    ]
    assert data["health"] == {
        "status": "warn",
        "time": "2026-05-28T18:56:40.000Z",
        "ts": SCREENS_NOW - 5400,
        "output": "1 warning",
        "checks": {"pass": 2, "warn": 1},
    }
    rows = {row["model"]: row for row in data["by_model"]}
    assert sorted(rows, key=str) == [None, "gpt-4o", "llama3"]
    gpt = rows["gpt-4o"]
    assert (gpt["count"], gpt["errors"], gpt["prompt_tokens"], gpt["completion_tokens"]) == (12, 7, 4860, 0)
    assert gpt["p50_ms"] < gpt["p95_ms"] and set(gpt) >= {"p90_ms", "p99_ms", "cost", "total_tokens"}
    since = json.loads(
        run_screen(screens_project, ["status", "--json", "--since", "1h"], "80", now=SCREENS_NOW)
    )
    assert since["error_types"] == [] and since["by_model"][1]["errors"] == 0


def test_errors_the_kept_operations_cannot_name_are_counted_as_other():
    from devkit.snapshot import empty_totals

    totals = dict(empty_totals(), requests=9, errors=5)
    rows = Snapshot(NOW, totals=totals, error_types=[("TimeoutError", 3)]).error_type_rows()
    assert rows == [{"error": "TimeoutError", "count": 3}, {"error": None, "count": 2, "other": True}]
    assert Snapshot(NOW).to_dict()["health"] is None and Snapshot(NOW).error_type_rows() == []


def test_error_types_read_only_the_newest_operations(tmp_path):
    from devkit.core.records import Batch

    kinds = ["OldError: a", "OldError: b", "TimeoutError: c", "ok", "TimeoutError", "ValueError: d"]
    records = [
        record(
            i, NOW - 60 + i, status="ok" if kind == "ok" else "error", error=None if kind == "ok" else kind
        )
        for i, kind in enumerate(kinds)
    ]
    with Store(tmp_path / "devkit.db", clock=lambda: NOW) as store:
        store.write_batch(Batch(records))
        assert store.error_types(newest=4) == [("TimeoutError", 2), ("ValueError", 1)]
        assert store.error_types(newest=100, limit=1) == [("OldError", 2)]
        assert store.error_types(since_ts=NOW - 56) == [("TimeoutError", 1), ("ValueError", 1)]

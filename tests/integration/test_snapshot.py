"""The one read model: ``devkit.snapshot.take`` and every reader built on it agree."""

import io
import json
import os

import pytest

from devkit.cli import main
from devkit.config import load_config
from devkit.context import Context
from devkit.errors import UsageError
from devkit.snapshot import HISTORY_MAX_POINTS, take
from devkit.store import Store
from tests.conftest import clean_env
from tests.integration._store_helpers import record, write_config

NOW = 1_780_000_000.0


def run_at(root, *argv):
    """Run the CLI in-process with the clock fixed at NOW; return (code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(stdout=out, stderr=err, stdin=io.StringIO(""), env=clean_env(), cwd=str(root),
                  clock=lambda: NOW, stdout_isatty=False, stderr_isatty=False)  # fmt: skip
    return main(list(argv), ctx), out.getvalue(), err.getvalue()


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
    snapshot = take(cfg, "100000d", NOW)
    # History spans the data's own range (15 minutes at 10 s), not 100,000 days of gaps.
    assert snapshot.history_resolution_s == 10 and len(snapshot.history) == 91
    assert sum(p["requests"] for p in snapshot.history) == snapshot.totals["requests"] == 21
    code, out, err = run_at(project, "metrics", "export", "--since", "100000d", "--format", "csv")
    assert code == 0, err
    assert out.count("\r\n") < 200 and len(out) < 50_000
    assert len(take(cfg, "1000000d", NOW).history) <= HISTORY_MAX_POINTS


def test_any_since_and_recent_limit_are_safe(project):
    cfg = load_config(cwd=str(project), env=clean_env())
    snapshot = take(cfg, "100000d", NOW, recent_limit=10**20)
    assert snapshot.since_ts == 0.0 and snapshot.totals["requests"] == 21 and len(snapshot.recent) == 21
    for since in ("1000000d", "9" * 400):
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
    from devkit.snapshot import Snapshot

    ctx = Context(stdout=io.StringIO(), env={}, stdout_isatty=False)
    info = {"path": "/s/devkit.db", "size_bytes": 2048, "operations": 7, "exists": True,
            "operations_not_kept": 1200, "records_dropped": 2}  # fmt: skip
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

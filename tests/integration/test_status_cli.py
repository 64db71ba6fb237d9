"""`devkit status` and `devkit metrics` in-process against a store filled with known operations."""

import io
import json
import os
import time

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from tests.integration._store_helpers import record, write_config

MODELS = [
    {
        "name": "llama3",
        "provider": "ollama",
        "url": "http://127.0.0.1:9",
        "price_input_per_1m": 1.0,
        "price_output_per_1m": 2.0,
    },
    {"name": "gpt", "provider": "openai", "url": "http://127.0.0.1:9"},
]


@pytest.fixture
def filled(tmp_path):
    """A project with two models and a store of 8 known operations (3 errors), the newest 'chat-last'."""
    write_config(tmp_path, MODELS)
    now = time.time()
    records = [
        record(i, now - 600 + i, duration_ms=100.0 * (i + 1), prompt=10, completion=20) for i in range(5)
    ]
    records += [
        record(
            10 + i,
            now - 7200,
            status="error",
            model=None,
            operation="embed",
            prompt=1,
            completion=0,
            cache_hit=i == 0,
        )
        for i in range(3)
    ]
    records.append(
        record(99, now - 5, operation="chat-last", model="gpt", prompt=0, completion=0, cache_hit=False)
    )
    prices = lambda m, p, c: (p * 1.0 + c * 2.0) / 1e6 if m == "llama3" else 0.0  # noqa: E731
    with Store(tmp_path / ".devkit" / "devkit.db", prices=prices) as store:
        store.write_batch(Batch(records))
        store.save_health(
            {
                "status": "fail",
                "checks": {
                    "model.llama3:responseTime": [{"status": "pass"}],
                    "model.gpt:responseTime": [{"status": "fail", "output": "unreachable"}],
                },
            }
        )
    return tmp_path


def _json(result):
    assert result.code == 0, result
    return json.loads(result.out)


def test_status_json_has_every_documented_key_and_exact_values(cli, filled):
    data = _json(cli("status", "--json"))
    totals = data["totals"]
    assert {
        k: totals[k]
        for k in (
            "requests",
            "errors",
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cache_hits",
            "cache_misses",
        )
    } == {
        "requests": 9,
        "errors": 3,
        "prompt_tokens": 53,
        "completion_tokens": 100,
        "total_tokens": 153,
        "cache_hits": 1,
        "cache_misses": 3,
    }
    assert totals["cost"] == pytest.approx(5 * (10 + 40) / 1e6)
    assert set(data["latency_ms"]) == {"p50", "p90", "p95", "p99"} and data["latency_ms"][
        "p99"
    ] == pytest.approx(500, rel=0.01)
    assert data["rate_per_min"] > 0 and data["since"] == "all"
    assert [op["id"] for op in data["recent"][:2]] == ["r99", "r4"]
    assert set(data["recent"][0]) >= {
        "id",
        "ts",
        "operation",
        "model",
        "duration_ms",
        "status",
        "prompt_tokens",
        "completion_tokens",
    }
    assert data["models"][0]["name"] == "llama3" and data["models"][0]["status"] == "pass"
    assert (data["models"][1]["status"], data["models"][1]["output"]) == ("fail", "unreachable")
    assert data["store"]["operations"] == 9 and data["store"]["size_bytes"] > 0
    assert set(data["windows"]) == {"1m", "5m", "15m", "1h"} and data["windows"]["1m"]["requests"] == 1


def test_since_applies_to_every_number(cli, filled):
    data = _json(cli("status", "--json", "--since", "1h"))
    assert (data["totals"]["requests"], data["totals"]["errors"]) == (6, 0)
    assert all(op["status"] == "ok" for op in data["recent"]) and len(data["recent"]) == 6
    assert data["rate_per_min"] == pytest.approx(6 / 60.0, abs=0.01)


def test_status_text_shows_the_screen_without_colour_off_a_tty(cli, filled):
    result = cli("status")
    assert result.code == 0 and "\x1b[" not in result.out
    for text in ("error rate 33.3%", "total 153", "last 9 operations (UTC)", "chat-last", "9 operations"):
        assert text in result.out
    assert ["gpt", "unreachable"] in [line.split() for line in result.out.splitlines()]


def test_status_is_coloured_on_a_tty(cli, filled):
    assert "\x1b[" in cli("status", tty=True).out
    assert "\x1b[" not in cli("status", tty=True, env={"NO_COLOR": "1"}).out


def test_status_without_a_store_shows_zeros_and_creates_no_database(cli, tmp_path):
    write_config(tmp_path, MODELS)
    data = _json(cli("status", "--json"))
    assert data["totals"]["requests"] == 0 and data["recent"] == [] and data["latency_ms"]["p50"] is None
    assert [m["status"] for m in data["models"]] == ["unknown", "unknown"]
    assert not os.path.exists(tmp_path / ".devkit" / "devkit.db")
    assert "no store yet" in cli("status").out


def test_bad_since_is_a_usage_error(cli, filled):
    result = cli("status", "--since", "yesterday")
    assert result.code == 2 and result.err.startswith("devkit: error: --since:")


def test_metrics_table_and_tokens(cli, filled):
    rows = _json(cli("metrics", "--json"))["rows"]
    assert [(r["operation"], r["model"], r["count"], r["errors"]) for r in rows] == [
        ("chat", "llama3", 5, 0),
        ("chat-last", "gpt", 1, 0),
        ("embed", None, 3, 3),
    ]
    assert rows[0]["p50_ms"] == pytest.approx(300, rel=0.01) and rows[0]["total_tokens"] == 150
    tokens = _json(cli("metrics", "tokens", "--json"))
    assert [(r["model"], r["total_tokens"]) for r in tokens["by_model"]] == [
        (None, 3),
        ("gpt", 0),
        ("llama3", 150),
    ]
    assert [r["operation"] for r in tokens["by_operation"]] == ["chat", "chat-last", "embed"]
    assert (
        _json(cli("metrics", "tokens", "--since", "1h", "--json"))["by_operation"][-1]["operation"]
        == "chat-last"
    )
    text = cli("metrics").out
    assert text.splitlines()[0].split() == [
        "operation",
        "model",
        "count",
        "errors",
        "p50",
        "ms",
        "p95",
        "ms",
        "p99",
        "ms",
        "tokens",
        "cost",
    ]
    assert "by model" in cli("metrics", "tokens").out


def test_reset_refuses_without_a_tty_and_resets_with_yes(cli, filled):
    refused = cli("metrics", "reset")
    assert refused.code == 2 and refused.err.count("\n") == 1 and "--yes" in refused.err
    assert _json(cli("status", "--json"))["totals"]["requests"] == 9
    done = cli("metrics", "reset", "--yes", "--json")
    assert _json(done)["reset"] is True
    assert _json(cli("status", "--json"))["totals"]["requests"] == 0


class _TtyInput(io.StringIO):
    def isatty(self):
        return True


def test_reset_asks_on_a_terminal(filled):
    from devkit.cli import main
    from devkit.context import Context
    from tests.conftest import clean_env

    def run(answer):
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(stdout=out, stderr=err, stdin=_TtyInput(answer), env=clean_env(), cwd=str(filled))
        return main(["metrics", "reset"], ctx), err.getvalue()

    code, err = run("n\n")
    assert code == 1 and "[y/N]" in err and "cancelled" in err
    assert run("y\n")[0] == 0


def test_ingest_draws_a_progress_bar_on_a_tty_for_big_files(cli, tmp_path):
    write_config(tmp_path)
    line = json.dumps({"operation": "chat", "duration_ms": 1.5, "status": "ok", "detail": "x" * 200}) + "\n"
    (tmp_path / "big.jsonl").write_text(line * (2 * 1024 * 1024 // len(line) + 1))
    result = cli("metrics", "ingest", "big.jsonl", tty=True)
    assert result.code == 0 and "100.0%" in result.err and "\r" in result.err
    assert "rejected 0" in result.out
    quiet = cli("metrics", "ingest", "big.jsonl")
    assert quiet.code == 0 and quiet.err == ""

"""`devkit metrics ingest` and friends as a user runs them: real files, stdin, exit codes, then status."""

import json

import pytest

GOOD = [
    {
        "operation": "chat",
        "model": "llama3",
        "duration_ms": 120.5,
        "status": "ok",
        "prompt_tokens": 10,
        "completion_tokens": 30,
        "cache_hit": True,
        "labels": {"team": "a"},
    },
    {"operation": "embed", "duration_ms": 4, "status": "error", "error": "Timeout", "ts": 1700000000},
    {"operation": "chat", "model": "llama3", "duration_ms": 80, "status": "ok", "prompt_tokens": 5},
]
BAD_LINES = {
    2: '{"operation": "chat", "duration_ms": "x", "status": "ok"}',
    4: "not json",
    6: '{"operation": "chat", "duration_ms": 1, "status": "maybe"}',
}


def _lines():
    good = iter(GOOD)
    return "\n".join(BAD_LINES[n] if n in BAD_LINES else json.dumps(next(good)) for n in range(1, 7)) + "\n"


@pytest.fixture
def project(tmp_path):
    models = [
        {
            "name": "llama3",
            "provider": "ollama",
            "url": "http://127.0.0.1:9",
            "price_input_per_1m": 2.0,
            "price_output_per_1m": 4.0,
        }
    ]
    (tmp_path / "devkit.json").write_text(json.dumps({"models": models}))
    (tmp_path / "events.jsonl").write_text(_lines())
    return tmp_path


def _totals(run_devkit):
    result = run_devkit("status", "--json")
    assert result.code == 0, result
    return json.loads(result.out)["totals"]


def test_ingest_a_file_skips_bad_lines_and_keeps_every_good_one(run_devkit, project):
    result = run_devkit("metrics", "ingest", "events.jsonl")
    assert result.code == 1
    assert result.out.strip() == "events.jsonl: ingested 3, rejected 3"
    assert result.err.splitlines() == [
        'events.jsonl:2: duration_ms: expected a number >= 0, got "x"',
        "events.jsonl:4: json: invalid JSON: Expecting value: line 1 column 1 (char 0)",
        'events.jsonl:6: status: expected "ok" or "error", got "maybe"',
    ]
    totals = _totals(run_devkit)
    assert (totals["requests"], totals["errors"], totals["prompt_tokens"], totals["completion_tokens"]) == (
        3,
        1,
        15,
        30,
    )
    assert totals["cost"] == pytest.approx((15 * 2.0 + 30 * 4.0) / 1e6)
    assert (totals["cache_hits"], totals["cache_misses"], totals["first_ts"]) == (1, 0, 1700000000)


def test_ingest_from_stdin_with_json_summary(run_devkit, project):
    result = run_devkit("metrics", "ingest", "-", "--json", stdin=_lines())
    assert result.code == 1
    data = json.loads(result.out)
    assert (data["ingested"], data["rejected"]) == (3, 3)
    assert [e["line"] for e in data["errors"]] == [2, 4, 6]
    assert result.err.splitlines()[0].startswith("<stdin>:2: duration_ms:")
    assert _totals(run_devkit)["requests"] == 3


def test_strict_rejects_everything_when_one_line_is_bad(run_devkit, project):
    result = run_devkit("metrics", "ingest", "events.jsonl", "--strict")
    assert result.code == 2
    assert "nothing ingested" in result.out and len(result.err.splitlines()) == 3
    assert _totals(run_devkit)["requests"] == 0
    stdin = run_devkit("metrics", "ingest", "-", "--strict", stdin=_lines())
    assert stdin.code == 2 and _totals(run_devkit)["requests"] == 0


def test_strict_with_a_clean_file_ingests_all(run_devkit, project):
    (project / "clean.jsonl").write_text("\n".join(json.dumps(e) for e in GOOD) + "\n\n")
    result = run_devkit("metrics", "ingest", "clean.jsonl", "--strict")
    assert (result.code, result.out.strip(), result.err) == (0, "clean.jsonl: ingested 3, rejected 0", "")
    assert _totals(run_devkit)["requests"] == 3


def test_a_missing_file_is_one_error_line_and_creates_no_store(run_devkit, project):
    result = run_devkit("metrics", "ingest", "nope.jsonl")
    assert result.code == 2
    assert result.err == "devkit: error: nope.jsonl: no such file (use - to read stdin)\n"
    assert not (project / ".devkit").exists()


def test_reset_then_metrics_and_status_show_zeros(run_devkit, project):
    run_devkit("metrics", "ingest", "events.jsonl")
    refused = run_devkit("metrics", "reset", stdin="y\n")
    assert refused.code == 2 and "--yes" in refused.err
    assert run_devkit("metrics", "reset", "--yes").code == 0
    assert _totals(run_devkit)["requests"] == 0
    assert run_devkit("metrics").out.startswith("no operations recorded")
    run_devkit("metrics", "ingest", "events.jsonl")
    assert _totals(run_devkit)["requests"] == 3


def test_stdin_that_is_not_utf8_reports_the_line(project):
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT, clean_env

    data = (json.dumps(GOOD[0]) + "\n").encode() + b'{"operation": "\xff"}\n'
    proc = subprocess.run(
        [sys.executable, "-m", "devkit", "metrics", "ingest", "-"],
        input=data,
        cwd=str(project),
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.decode() == "<stdin>:2: encoding: not valid UTF-8 at byte 15\n"
    assert proc.stdout.decode().strip() == "<stdin>: ingested 1, rejected 1"

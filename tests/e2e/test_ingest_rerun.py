"""`devkit metrics ingest` rerun and `--follow`: every line and every event id counted exactly once."""

import json
import os
import signal
import subprocess
import sys
import time

from tests.conftest import REPO_ROOT, clean_env

NOW = time.time()


def _lines(start, count, with_id=False):
    out = []
    for i in range(start, start + count):
        event = {
            "operation": "chat",
            "model": "m",
            "duration_ms": 1.5,
            "status": "ok",
            "prompt_tokens": 1,
            "ts": round(NOW - 3600 + i * 0.01, 3),
        }
        if with_id:
            event["id"] = f"ev-{i}"
        out.append(json.dumps(event) + "\n")
    return "".join(out)


def _append(path, text):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def _totals(cli):
    result = cli("status", "--json")
    assert result.code == 0, result
    return json.loads(result.out)["totals"]


def test_the_same_file_three_times_then_500_more_lines_counts_10500(cli, tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(_lines(0, 10_000))
    first = cli("metrics", "ingest", "app.jsonl", "--json")
    assert json.loads(first.out)["ingested"] == 10_000
    for _ in range(2):
        again = cli("metrics", "ingest", "app.jsonl")
        assert (again.code, again.out) == (0, "app.jsonl: ingested 0, rejected 0\n")
    _append(log, _lines(10_000, 500))
    last = cli("metrics", "ingest", "app.jsonl", "--json", "-v")
    assert json.loads(last.out)["ingested"] == 500
    assert "lines 10001-10500, 500 ingested" in last.err
    totals = _totals(cli)
    assert (totals["requests"], totals["prompt_tokens"]) == (10_500, 10_500)


def test_events_with_an_id_count_once_from_any_file(cli, tmp_path):
    (tmp_path / "a.jsonl").write_text(_lines(0, 300, with_id=True))
    # A second file repeating 200 of those events (and one repeated inside itself) plus 100 new ones.
    (tmp_path / "b.jsonl").write_text(_lines(100, 300, with_id=True) + _lines(399, 1, with_id=True))
    assert json.loads(cli("metrics", "ingest", "a.jsonl", "--json").out)["ingested"] == 300
    result = cli("metrics", "ingest", "b.jsonl", "--json")
    assert (json.loads(result.out)["ingested"], json.loads(result.out)["duplicates"]) == (100, 201)
    assert cli("metrics", "ingest", "-", stdin=_lines(0, 400, with_id=True)).code == 0
    assert _totals(cli)["requests"] == 400
    quiet = cli("metrics", "ingest", "-", "-q", stdin=_lines(0, 10, with_id=True))
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def test_a_truncated_or_rewritten_file_is_read_from_its_start(cli, tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(_lines(0, 50))
    assert cli("metrics", "ingest", "app.jsonl").code == 0
    log.write_text(_lines(50, 20))  # same inode, shorter: truncated and refilled
    assert json.loads(cli("metrics", "ingest", "app.jsonl", "--json").out)["ingested"] == 20
    log.write_text(_lines(1000, 80))  # longer than before but other content: the head hash tells
    assert json.loads(cli("metrics", "ingest", "app.jsonl", "--json").out)["ingested"] == 80
    assert _totals(cli)["requests"] == 150


def test_a_rerun_after_rotation_reads_the_rest_of_the_old_file_first(cli, tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(_lines(0, 40))
    assert cli("metrics", "ingest", "app.jsonl").code == 0
    _append(log, _lines(40, 10))
    os.rename(log, tmp_path / "app.jsonl.1")
    log.write_text(_lines(50, 5))
    result = cli("metrics", "ingest", "app.jsonl", "--json")
    assert json.loads(result.out)["ingested"] == 15
    assert _totals(cli)["requests"] == 55


def _start_follow(tmp_path):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    return subprocess.Popen(
        [sys.executable, "-m", "devkit", "metrics", "ingest", "app.jsonl", "--follow", "--json"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(cli, expected, limit_s=20.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        # The follower may still be creating the store on its first round.
        result = cli("status", "--json")
        if result.code == 0 and json.loads(result.out)["totals"]["requests"] == expected:
            return expected
        time.sleep(0.1)
    return _totals(cli)["requests"]


def test_follow_across_kill_9_rotation_and_restart_counts_every_line_once(cli, tmp_path):
    log = tmp_path / "app.jsonl"
    log.write_text(_lines(0, 200))
    proc = _start_follow(tmp_path)
    try:
        assert _wait_for(cli, 200) == 200
        _append(log, _lines(200, 100))
        half = _lines(300, 1)
        _append(log, half[:20])  # a line still being written is not read until it ends
        assert _wait_for(cli, 300) == 300
        _append(log, half[20:] + _lines(301, 99))
        time.sleep(0.3)
        proc.kill()
        proc.wait(10)
        # While it is down the log grows, rotates and the new file grows.
        _append(log, _lines(400, 50))
        os.rename(log, tmp_path / "app.jsonl.1")
        log.write_text(_lines(450, 30))
        proc = _start_follow(tmp_path)
        assert _wait_for(cli, 480) == 480
        os.rename(log, tmp_path / "app.jsonl.2")  # rotated under the running follower
        _append(tmp_path / "app.jsonl.2", _lines(480, 20))
        log.write_text(_lines(500, 25))
        assert _wait_for(cli, 525) == 525
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert "Traceback" not in err and (summary["ingested"], summary["rejected"]) == (525 - 400, 0)
    assert [(f["path"].rsplit("/", 1)[1], f["from_line"], f["to_line"]) for f in summary["files"]] == [
        ("app.jsonl.1", 401, 450),
        ("app.jsonl", 1, 50),
        ("app.jsonl", 1, 25),
    ]
    assert _totals(cli)["requests"] == 525

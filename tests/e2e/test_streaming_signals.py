"""Against the fake model server (300 ms to the first token, 50 tokens/s): TTFT and tokens/s recorded within 5 %."""

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO_ROOT, clean_env
from tests.e2e._fake_server import fake_model_server

FIRST_TOKEN_MS = 300.0
TOKENS_PER_S = 50.0
TOKENS = 30
CALLS = 2

# The app side: each call streams through op.stream() and records usage with op.usage().
APP = """
import json, sys, urllib.request
import devkit

url, calls = sys.argv[1], int(sys.argv[2])

def post(path, body):
    request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=30)

for i in range(calls):
    with devkit.track("chat", model="ndjson-model") as op:
        with post("/api/chat", {"model": "ndjson-model", "messages": [{"role": "user", "content": f"hi {i}"}]}) as r:
            chunks = [json.loads(line) for line in op.stream(r) if line.strip()]
        op.usage(chunks)
    with devkit.track("chat", model="sse-model") as op:
        body = {"model": "sse-model", "messages": [{"role": "user", "content": f"hi {i}"}], "stream": True,
                "stream_options": {"include_usage": True}}
        with post("/v1/chat/completions", body) as r:
            events = [line for line in op.stream(line for line in r if line.startswith(b"data:"))]
        op.usage(b"\\n\\n".join(events))
devkit.flush()
"""


@pytest.fixture(scope="module")
def server():
    with fake_model_server(FIRST_TOKEN_MS, TOKENS_PER_S, TOKENS) as url:
        yield url


def _recorded(server, folder, run_devkit):
    """Run the app against ``server`` in ``folder``; return ``status --json``'s rows by model."""
    folder.mkdir()
    (folder / "devkit.json").write_text(json.dumps({"metrics": {"flush_interval_s": 60}}))
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    app = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP), server, str(CALLS)],
        cwd=str(folder),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert app.returncode == 0, app.stderr
    status = run_devkit("status", "--json", cwd=folder)
    assert status.code == 0, status.err
    rows = {row["model"]: row for row in json.loads(status.out)["by_model"]}
    assert sorted(rows) == ["ndjson-model", "sse-model"]
    for model, row in rows.items():
        assert row["count"] == CALLS and row["completion_tokens"] == CALLS * TOKENS, model
        assert row["time_per_chunk_p50_ms"] is not None, model
    return rows


def test_ttft_and_tokens_per_second_match_the_server_for_ndjson_and_sse(server, tmp_path, run_devkit):
    # The server's sleeps are the truth only on a machine that runs it on time: a run on an
    # overloaded machine (one saw 409 ms at load 7) is tried again, at most three times in all.
    timings = []
    for attempt in range(3):
        rows = _recorded(server, tmp_path / f"run{attempt}", run_devkit)
        timings.append({model: (row["ttft_p50_ms"], row["tokens_per_s_p50"]) for model, row in rows.items()})
        if all(
            ttft == pytest.approx(FIRST_TOKEN_MS, rel=0.05) and rate == pytest.approx(TOKENS_PER_S, rel=0.05)
            for ttft, rate in timings[-1].values()
        ):
            return
    pytest.fail(f"TTFT p50 ms and tokens/s p50 not within 5 % of {FIRST_TOKEN_MS}, {TOKENS_PER_S}: {timings}")

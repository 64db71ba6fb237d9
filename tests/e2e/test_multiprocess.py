"""Must show: 4 processes x 4 threads x 25,000 track() calls -> status shows exactly 400,000 requests."""

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT, clean_env

PROCESSES, THREADS, CALLS = 4, 4, 25_000

CHILD = """
import sys, threading
import devkit

worker = int(sys.argv[1])

def work(thread):
    for _ in range({calls}):
        with devkit.track("chat", model="llama3", worker=str(worker)) as op:
            op.tokens(prompt=worker + 1, completion=thread + 1)

threads = [threading.Thread(target=work, args=(t,)) for t in range({threads})]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_four_processes_of_four_threads_lose_no_count(tmp_path, run_devkit):
    with open(tmp_path / "devkit.json", "w") as handle:
        json.dump(
            {
                "models": [
                    {
                        "name": "llama3",
                        "provider": "ollama",
                        "url": "http://127.0.0.1:9",
                        "price_input_per_1m": 1.0,
                        "price_output_per_1m": 2.0,
                    }
                ]
            },
            handle,
        )
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    code = CHILD.format(calls=CALLS, threads=THREADS)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(w)],
            cwd=str(tmp_path),
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    errors = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * PROCESSES, errors
    status = run_devkit("status", "--json", cwd=tmp_path)
    assert status.code == 0, status.err
    totals = json.loads(status.out)["totals"]
    per_process = THREADS * CALLS
    prompt = sum((w + 1) * per_process for w in range(PROCESSES))
    completion = PROCESSES * sum((t + 1) * CALLS for t in range(THREADS))
    assert totals["requests"] == PROCESSES * THREADS * CALLS == 400_000
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (prompt, completion)
    assert totals["total_tokens"] == prompt + completion
    assert totals["errors"] == 0
    assert abs(totals["cost"] - (prompt * 1.0 + completion * 2.0) / 1e6) < 1e-6
    assert sorted(os.listdir(tmp_path / ".devkit")) == ["devkit.db"]

"""Bench: `devkit metrics ingest` of N JSON lines against a naive loader measured in the same run.

Baseline: ``json.loads`` per line + ``executemany`` into a plain 7-column SQLite table (one
transaction). Prints both throughputs, their ratio (goal >= 0.5x) and both file sizes (goal:
the store at most 2x the table). Each side runs ``--repeat`` times, alternating, into a fresh
file; the best time of each counts, so a busy machine skews the ratio less.
Usage: python3 bench/ingest_bench.py [--lines N] [--repeat N]
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL_RATIO = 0.5
GOAL_SIZE = 2.0
OPERATIONS = ("chat", "embed", "rerank", "summarize")
MODELS = ("llama3", "mistral", "qwen2")


def write_events(path, lines, seed=7):
    """``lines`` realistic events over the last 6 days."""
    rng = random.Random(seed)
    now = time.time() - 60
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(lines):
            event = {
                "operation": rng.choice(OPERATIONS),
                "model": rng.choice(MODELS),
                "status": "ok",
                "duration_ms": round(rng.lognormvariate(4.0, 0.8), 3),
                "prompt_tokens": rng.randint(1, 500),
                "completion_tokens": rng.randint(1, 800),
                "ts": round(now - 6 * 86400 * (1 - i / lines), 3),
            }
            handle.write(json.dumps(event) + "\n")


def naive(events, db):
    """The baseline loader; returns seconds."""
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE ops (ts REAL, operation TEXT, model TEXT, status TEXT, duration_ms REAL,"
        " prompt_tokens INTEGER, completion_tokens INTEGER)"
    )
    keys = ("ts", "operation", "model", "status", "duration_ms", "prompt_tokens", "completion_tokens")
    with open(events, encoding="utf-8") as handle, conn:
        rows = []
        for line in handle:
            event = json.loads(line)
            rows.append(tuple(event.get(k) for k in keys))
            if len(rows) >= 5000:
                conn.executemany("INSERT INTO ops VALUES (?,?,?,?,?,?,?)", rows)
                rows = []
        conn.executemany("INSERT INTO ops VALUES (?,?,?,?,?,?,?)", rows)
    conn.close()
    return time.perf_counter() - started


def devkit_ingest(events, project):
    """``python -m devkit metrics ingest`` in ``project``; returns seconds (interpreter start included)."""
    env = dict(os.environ, PYTHONPATH=REPO)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "devkit", "metrics", "ingest", events, "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed: {proc.stderr[-500:]}")
    return took, json.loads(proc.stdout)["ingested"]


def _fresh(scratch):
    """Remove what the previous round wrote: both loaders start from no file."""
    shutil.rmtree(os.path.join(scratch, ".devkit"), ignore_errors=True)
    if os.path.exists(os.path.join(scratch, "naive.db")):
        os.remove(os.path.join(scratch, "naive.db"))


def main(argv=None):
    """Build the events, run both loaders, print throughputs, ratios and sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="devkit-ingest-bench-") as scratch:
        events = os.path.join(scratch, "events.jsonl")
        write_events(events, args.lines)
        base_s = dk_s = float("inf")
        for _ in range(max(1, args.repeat)):
            _fresh(scratch)
            base_s = min(base_s, naive(events, os.path.join(scratch, "naive.db")))
            took, ingested = devkit_ingest(events, scratch)
            dk_s = min(dk_s, took)
        store = os.path.join(scratch, ".devkit", "devkit.db")
        subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sqlite3; sqlite3.connect({store!r}).execute('PRAGMA wal_checkpoint(TRUNCATE)')",
            ],
            check=True,
        )
        sizes = [os.path.getsize(p) for p in (os.path.join(scratch, "naive.db"), store)]
    ratio, size_ratio = (args.lines / dk_s) / (args.lines / base_s), sizes[1] / sizes[0]
    print(f"python {sys.version.split()[0]}  {args.lines} lines, {ingested} ingested, best of {args.repeat}")
    print(
        f"naive json.loads + executemany: {args.lines / base_s:>10.0f} lines/s  table {sizes[0] / 1e6:.1f} MB"
    )
    print(
        f"devkit metrics ingest:          {args.lines / dk_s:>10.0f} lines/s  store {sizes[1] / 1e6:.1f} MB"
    )
    print(
        f"throughput ratio {ratio:.2f}x (goal >= {GOAL_RATIO}x) {'PASS' if ratio >= GOAL_RATIO else 'FAIL'};"
        f" size ratio {size_ratio:.2f}x (goal <= {GOAL_SIZE}x) {'PASS' if size_ratio <= GOAL_SIZE else 'FAIL'}"
    )
    return 0 if ratio >= GOAL_RATIO and size_ratio <= GOAL_SIZE and ingested == args.lines else 1


if __name__ == "__main__":
    sys.exit(main())

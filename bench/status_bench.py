"""Bench: `devkit status --json` on a store holding 1,000,000 operations.

Builds the store with write_batch in big batches (operations spread over the last
6 days), then prints the median wall time of `python3 -m devkit status --json`
next to the median of `python3 -c "import sqlite3, json"` measured in the same run.
Usage: python3 bench/status_bench.py [--ops N] [--runs R] [--keep DIR]
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from devkit.core.records import Batch, OperationRecord  # noqa: E402
from devkit.store import Store  # noqa: E402

GOAL_S = 0.5
OPERATIONS = ("chat", "embed", "rerank", "summarize")
MODELS = ("llama3", "mistral", "qwen2", None)
SPAN_S = 6 * 86400


def build(path, total, batch_size=50000, seed=7):
    """Fill a store at ``path`` with ``total`` operations; return the seconds it took."""
    rng = random.Random(seed)
    now = time.time()
    started = time.perf_counter()
    with Store(path, prices=lambda m, p, c: (p + c) * 1e-7) as store:
        for first in range(0, total, batch_size):
            count = min(batch_size, total - first)
            store.write_batch(Batch(_records(rng, now, first, count, total)))
    return time.perf_counter() - started


def _records(rng, now, first, count, total):
    out = []
    for i in range(first, first + count):
        ts = now - SPAN_S + SPAN_S * i / total
        status = "error" if rng.random() < 0.02 else "ok"
        out.append(
            OperationRecord(
                f"op{i}",
                ts,
                rng.choice(OPERATIONS),
                rng.choice(MODELS),
                status,
                rng.lognormvariate(4.0, 0.8),
                rng.randint(1, 500),
                rng.randint(1, 800),
                rng.choice((None, True, False)),
            )
        )
    return out


def timed(argv, cwd, env, runs):
    """Median wall time of running ``argv`` ``runs`` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} failed: {proc.stderr.strip()}")
    return statistics.median(times), proc.stdout


def main():
    """Build the store, time both commands, print the numbers and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (reused when it exists)")
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="devkit-status-bench-")
    try:
        return _run(work, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _run(work, args):
    os.makedirs(work, exist_ok=True)
    db = os.path.join(work, ".devkit", "devkit.db")
    with open(os.path.join(work, "devkit.json"), "w") as handle:
        handle.write("{}")
    if not os.path.exists(db):
        print(f"building a store of {args.ops:,} operations ...", flush=True)
        print(f"build: {build(db, args.ops):.1f} s ({os.path.getsize(db) / 1e6:.0f} MB)")
    env = dict(os.environ, PYTHONPATH=REPO)
    base, _ = timed([sys.executable, "-c", "import sqlite3, json"], work, env, args.runs)
    status, out = timed([sys.executable, "-m", "devkit", "status", "--json"], work, env, args.runs)
    data = json.loads(out)
    print(
        f"operations in store:           {data['store']['operations']:,} (requests {data['totals']['requests']:,})"
    )
    print(f"python -c 'import sqlite3, json': {base * 1000:7.1f} ms (median of {args.runs})")
    print(f"devkit status --json:          {status * 1000:7.1f} ms (median of {args.runs})")
    print(f"ratio status / baseline:       {status / base:7.2f}x")
    print(f"status minus baseline:         {(status - base) * 1000:7.1f} ms")
    verdict = "PASS" if status < GOAL_S else "FAIL"
    print(f"{verdict}: status answers in {status:.3f} s (goal < {GOAL_S} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())

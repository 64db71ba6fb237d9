"""Bench: cleanup planning over a 100,000-file project against `find ROOT -type f -mtime +N`, same tree, same run.

The tree: 400 experiments of 100 files (half unchanged for 60 days, half fresh) and 60,000
data files in 600 folders, 5 % of them temp files and 2 % logs, old and new mixed. Planning
runs in-process with ``--age-by mtime`` (so old experiments are walked whole); both sides
are timed best-of-R after one warm-up. Prints the ratio plan / find (goal: at most 1.5).
Usage: python3 bench/cleanup_bench.py [--files N] [--runs R] [--keep DIR]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from devkit.config import load_config  # noqa: E402
from devkit.maintenance.cleanup import cleanup  # noqa: E402

GOAL_RATIO = 1.5
DAY_S = 86400


def build(root, files):
    """Write the project tree under ``root``; return the number of files."""
    now = time.time()
    per_exp, experiments = 100, max(1, files * 4 // 10 // 100)
    for e in range(experiments):
        folder = os.path.join(root, "data", "experiments", f"exp{e:04d}")
        _fill(folder, [f"r{i:03d}.json" for i in range(per_exp)], now - (60 if e % 2 else 0) * DAY_S)
    rest, per_dir = files - experiments * per_exp, 100
    for d in range(rest // per_dir):
        names = [_data_name(d * per_dir + i) for i in range(per_dir)]
        _fill(os.path.join(root, "data", "sets", f"d{d:04d}"), names, now - (d % 3) * 20 * DAY_S)
    with open(os.path.join(root, "devkit.json"), "w") as handle:
        json.dump({"project": {"data_dirs": ["data"]}, "experiments": {"path": "data/experiments"}}, handle)
    return experiments * per_exp + rest // per_dir * per_dir


def _data_name(i):
    if i % 20 == 0:
        return f"f{i}.tmp"
    if i % 50 == 1:
        return f"f{i}.log"
    return f"f{i}.json"


def _fill(folder, names, when):
    os.makedirs(folder, exist_ok=True)
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "w") as handle:
            handle.write("x")
        os.utime(path, (when, when))
    os.utime(folder, (when, when))


def best(func, runs):
    """The fastest of ``runs`` timed calls (after one warm-up), and the last result."""
    result = func()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="build the tree here and keep it")
    args = parser.parse_args()
    root = args.keep or tempfile.mkdtemp(prefix="devkit-cleanup-bench-")
    try:
        count = build(root, args.files)
        cfg = load_config(cwd=root, env={})
        find = ["find", root, "-type", "f", "-mtime", "+30"]
        find_s, found = best(lambda: subprocess.run(find, capture_output=True, check=True).stdout, args.runs)
        plan_s, plan = best(
            lambda: cleanup(cfg, older_than_s=30 * DAY_S, age_by="mtime", now=time.time()), args.runs
        )
        report(count, find_s, found.count(b"\n"), plan_s, plan)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def report(count, find_s, found, plan_s, plan):
    """Print both timings, what each found, and the ratio against the goal."""
    kinds = {}
    for entry in plan["entries"]:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    ratio = plan_s / find_s
    print(f"tree: {count:,} files")
    print(f"find -type f -mtime +30: {find_s * 1000:8.1f} ms  ({found:,} old files)")
    print(f"cleanup plan (mtime):    {plan_s * 1000:8.1f} ms  ({kinds})")
    print(f"ratio plan/find: {ratio:.2f} (goal <= {GOAL_RATIO}) {'OK' if ratio <= GOAL_RATIO else 'MISSED'}")


if __name__ == "__main__":
    main()

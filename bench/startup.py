"""Startup cost: `python3 -m devkit --help` against `python3 -c "import argparse, json"`.

Both are timed in the same run, alternating, over many runs; the script prints
the medians and their ratio (goal: at most 1.5).
"""

import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOAL = 1.5


def _time_once(argv, env):
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(runs=40):
    """Time both commands ``runs`` times each, alternating; print medians and the ratio."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    devkit = [sys.executable, "-m", "devkit", "--help"]
    baseline = [sys.executable, "-c", "import argparse, json"]
    for argv in (devkit, baseline):
        _time_once(argv, env)  # warm the page cache and .pyc files
    devkit_s, baseline_s = [], []
    for _ in range(runs):
        devkit_s.append(_time_once(devkit, env))
        baseline_s.append(_time_once(baseline, env))
    d, b = statistics.median(devkit_s), statistics.median(baseline_s)
    ratio = d / b
    print(f"python -m devkit --help        median {d * 1000:7.1f} ms ({runs} runs)")
    print(f"python -c 'import argparse, json' median {b * 1000:7.1f} ms ({runs} runs)")
    print(f"ratio {ratio:.2f} (goal <= {GOAL}) {'PASS' if ratio <= GOAL else 'FAIL'}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))

"""Prometheus text for 100 histograms x 10 label sets: devkit vs prometheus_client's generate_latest().

Both sides hold the same observations in the same buckets. prometheus_client is not a devkit
dependency: when it is missing, this script makes a throwaway venv under /tmp, installs it there
and re-runs itself with that interpreter. Prints the median times and their ratio (goal <= 0.15).
"""

import os
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

FAMILIES = 100
LABEL_SETS = 10
OBSERVATIONS = 50
REPEATS = 15
GOAL = 0.15
VENV = "/tmp/devkit-bench-prometheus-client"


def ensure_prometheus_client():
    """Import prometheus_client, or re-run this script from a /tmp venv that has it."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        if os.environ.get("DEVKIT_BENCH_REEXEC"):
            sys.exit("prometheus_client could not be installed in " + VENV)
        python = os.path.join(VENV, "bin", "python")
        if not os.path.exists(python):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "prometheus_client"], check=True)
        env = dict(os.environ, DEVKIT_BENCH_REEXEC="1")
        sys.exit(subprocess.call([python, os.path.abspath(__file__)] + sys.argv[1:], env=env))


def observations(seed):
    """Latency-like values (seconds), the same on both sides."""
    rng = random.Random(seed)
    return [rng.lognormvariate(-1.0, 1.2) for _ in range(OBSERVATIONS)]


def label_values(i, j):
    """Label values with quotes, backslashes, newlines and non-ASCII text."""
    return {"model": f'model-{j} "q" \\ é', "route": f"/v1/chat/{i}\nline"}


def devkit_snapshot():
    """A Snapshot whose instruments are the 1,000 histogram series."""
    from devkit.export.snapshot import Snapshot
    from devkit.metrics.sketch import Sketch

    instruments = []
    for i in range(FAMILIES):
        for j in range(LABEL_SETS):
            sketch = Sketch()
            for value in observations(i * 1000 + j):
                sketch.add(value)
            labels = label_values(i, j)
            instruments.append({"name": f"app_latency_{i}_seconds", "kind": "histogram",
                                "help": f"latency of step {i}", "labels": labels, "value": 0.0,
                                "sketch": sketch, "created_ts": 1700000000.0})  # fmt: skip
    return Snapshot(generated_at=1700000100.0, instruments=instruments)


def client_registry():
    """An equivalent prometheus_client registry with the same buckets and observations."""
    from prometheus_client import CollectorRegistry, Histogram

    from devkit.export.families import LE_BOUNDS

    registry = CollectorRegistry()
    for i in range(FAMILIES):
        hist = Histogram(f"app_latency_{i}_seconds", f"latency of step {i}", ["model", "route"],
                         registry=registry, buckets=LE_BOUNDS)  # fmt: skip
        for j in range(LABEL_SETS):
            child = hist.labels(**label_values(i, j))
            for value in observations(i * 1000 + j):
                child.observe(value)
    return registry


def median_time(func):
    """Median wall time of ``func()`` over REPEATS runs, after one warm-up."""
    func()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    """Build both sides, time them, print the ratio."""
    ensure_prometheus_client()
    from prometheus_client import generate_latest

    from devkit.export.promtext import render_prometheus

    snapshot = devkit_snapshot()
    registry = client_registry()
    devkit_text = "".join(render_prometheus(snapshot))
    client_text = generate_latest(registry).decode("utf-8")
    ours = median_time(lambda: "".join(render_prometheus(snapshot)).encode("utf-8"))
    theirs = median_time(lambda: generate_latest(registry))
    ratio = ours / theirs
    print(f"series: {FAMILIES} histograms x {LABEL_SETS} label sets; {OBSERVATIONS} observations each")
    print(f"devkit render_prometheus : {ours * 1000:8.2f} ms  ({len(devkit_text.splitlines())} lines)")
    print(f"prometheus_client latest : {theirs * 1000:8.2f} ms  ({len(client_text.splitlines())} lines)")
    print(f"ratio devkit/client      : {ratio:.3f}  (goal <= {GOAL}) {'OK' if ratio <= GOAL else 'MISSED'}")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())

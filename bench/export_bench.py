"""Prometheus text for 100 histograms x 10 label sets: devkit vs prometheus_client's generate_latest().

Both sides hold the same observations in the same buckets. prometheus_client is not a devkit
dependency: when it is missing, this script makes a throwaway venv under /tmp, installs it there
and re-runs itself with that interpreter. Prints the median times and their ratio (goal <= 0.15).

``--operations N`` instead fills a throwaway store with N operations and streams the operations
CSV to a file, printing the tracemalloc peak for N/10 and for N operations (flat memory check).
"""

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
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
    from devkit.core.sketch import Sketch
    from devkit.snapshot import Snapshot

    instruments = []
    for i in range(FAMILIES):
        for j in range(LABEL_SETS):
            sketch = Sketch()
            for value in observations(i * 1000 + j):
                sketch.add(value)
            labels = label_values(i, j)
            instruments.append(
                {
                    "name": f"app_latency_{i}_seconds",
                    "kind": "histogram",
                    "help": f"latency of step {i}",
                    "labels": labels,
                    "value": 0.0,
                    "sketch": sketch,
                    "created_ts": 1700000000.0,
                }
            )
    return Snapshot(generated_at=1700000100.0, instruments=instruments)


def client_registry():
    """An equivalent prometheus_client registry with the same buckets and observations."""
    from prometheus_client import CollectorRegistry, Histogram

    from devkit.export.families import LE_BOUNDS

    registry = CollectorRegistry()
    for i in range(FAMILIES):
        hist = Histogram(
            f"app_latency_{i}_seconds",
            f"latency of step {i}",
            ["model", "route"],
            registry=registry,
            buckets=LE_BOUNDS,
        )
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


def fill_store(path, count, batch=20_000):
    """Write ``count`` operations into a new store at ``path``; return the newest timestamp."""
    from devkit.core.records import Batch, OperationRecord
    from devkit.store import Store

    now = time.time()
    with Store(path) as store:
        for start in range(0, count, batch):
            ops = [
                OperationRecord(
                    f"op-{i:08d}",
                    now - count * 0.001 + i * 0.001,
                    "chat",
                    "llama3",
                    "ok",
                    10.0 + i % 500,
                    120,
                    240,
                    None,
                    0.0021,
                    None,
                    "detail",
                )
                for i in range(start, min(count, start + batch))
            ]
            store.write_batch(Batch(ops))
    return now


def stream_peak(folder, out_path, since_ts, now):
    """Stream the operations CSV since ``since_ts`` into ``out_path``; return (bytes, seconds, peak bytes)."""
    import tracemalloc

    from devkit.config import load_config
    from devkit.export import render
    from devkit.snapshot import take
    from devkit.util import atomic_write

    cfg = load_config(explicit=os.path.join(folder, "devkit.json"), cwd=folder)
    snapshot = take(cfg, "all" if since_ts is None else f"{now + 1 - since_ts:.3f}s", now + 1)
    tracemalloc.start()
    start = time.perf_counter()
    size = atomic_write(out_path, render(snapshot, "csv", operations=True))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return size, elapsed, peak


def operations_main(count):
    """Fill a throwaway store with ``count`` operations and report the streaming peak for N/10 and N."""
    folder = tempfile.mkdtemp(prefix="devkit-export-bench-")
    try:
        with open(os.path.join(folder, "devkit.json"), "w", encoding="utf-8") as handle:
            handle.write('{"project": {"state_dir": "."}}')
        db_path = os.path.join(folder, "devkit.db")
        started = time.perf_counter()
        now = fill_store(db_path, count)
        print(f"store: {count:,} operations written in {time.perf_counter() - started:.1f} s")
        tenth_since = now - count * 0.001 + count * 0.9 * 0.001
        for label, since in ((f"{count // 10:,} ops", tenth_since), (f"{count:,} ops", None)):
            size, elapsed, peak = stream_peak(folder, os.path.join(folder, "ops.csv"), since, now)
            print(
                f"operations csv {label:>14}: {size / 1e6:8.1f} MB in {elapsed:6.1f} s; "
                f"tracemalloc peak {peak / 1e6:6.2f} MB ({100.0 * peak / size:.2f}% of output)"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def main():
    """Build both sides, time them, print the ratio (or run the --operations streaming check)."""
    if len(sys.argv) == 3 and sys.argv[1] == "--operations":
        return operations_main(int(sys.argv[2]))
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

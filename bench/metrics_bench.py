"""ns per operation of devkit's hot path against prometheus_client, measured in the same run.

Usage: python bench/metrics_bench.py [--number N] [--repeat R]

When prometheus_client is not importable, a throwaway venv under /tmp gets it
(pip) and this script re-runs itself there with PYTHONPATH set to the checkout;
devkit itself never depends on it. Each figure is the median of R timeit
repeats of N calls; ratios are devkit / prometheus_client.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
REEXEC_FLAG = "DEVKIT_BENCH_REEXEC"
VENV_DIR = os.path.join(
    tempfile.gettempdir(), f"devkit-bench-venv-{sys.version_info[0]}{sys.version_info[1]}"
)

# (devkit case, prometheus case, goal: devkit/prometheus ratio must be <= this, or None)
PAIRS = [
    ("Counter.inc()", "Counter.inc()", None),
    ("labels(...).inc()", "labels(...).inc()", 0.3),
    ("Histogram.observe()", "Histogram.observe()", 0.6),
    ("with track(...)", "with Histogram.time()", 1.0),
]


def devkit_cases():
    """Statements and globals for devkit's four hot-path operations (plus Histogram.time for reference)."""
    from devkit.metrics import api
    from devkit.metrics.recorder import RECORDER

    RECORDER.writer = (
        lambda batch, deadline=None: None
    )  # the flusher keeps running; only the sqlite write is left out
    names = {
        "c": api.counter("bench_requests", "requests"),
        "cl": api.counter("bench_labelled", "requests", labels=("route", "code")),
        "h": api.histogram("bench_latency", "latency"),
        "track": api.track,
    }
    cases = {
        "Counter.inc()": "c.inc()",
        "labels(...).inc()": "cl.labels(route='/chat', code='200').inc()",
        "Histogram.observe()": "h.observe(0.1)",
        "with track(...)": "with track('chat'):\n    pass",
        "track + first_token()": "with track('chat') as op:\n    op.first_token()",
        "with Histogram.time()": "with h.time():\n    pass",
    }
    return cases, names, RECORDER


def prometheus_cases():
    """The same operations in prometheus_client, on a private registry."""
    import prometheus_client as pc

    registry = pc.CollectorRegistry()
    names = {
        "c": pc.Counter("bench_requests", "requests", registry=registry),
        "cl": pc.Counter("bench_labelled", "requests", ["route", "code"], registry=registry),
        "h": pc.Histogram("bench_latency", "latency", registry=registry),
    }
    cases = {
        "Counter.inc()": "c.inc()",
        "labels(...).inc()": "cl.labels(route='/chat', code='200').inc()",
        "Histogram.observe()": "h.observe(0.1)",
        "with Histogram.time()": "with h.time():\n    pass",
    }
    return cases, names


def measure(stmt, names, number, repeat, between=None):
    """Median ns per call of ``stmt`` over ``repeat`` runs of ``number`` calls."""
    timer = timeit.Timer(stmt, globals=names)
    timer.timeit(number // 10 or 1)
    runs = []
    for _ in range(repeat):
        runs.append(timer.timeit(number) / number * 1e9)
        if between:
            between()
    return statistics.median(runs)


def run_all(number, repeat):
    """Measure both libraries case by case, interleaved so machine noise hits both alike."""
    dk_cases, dk_names, recorder = devkit_cases()
    pc_cases, pc_names = prometheus_cases()
    results = {}
    for dk_case, pc_case, _goal in PAIRS + [("with Histogram.time()", "with Histogram.time()", None)]:
        dk = measure(dk_cases[dk_case], dk_names, number, repeat, between=recorder.flush)
        pc = measure(pc_cases[pc_case], pc_names, number, repeat)
        results[dk_case] = (dk, pc_case, pc)
    recorder.flush()
    return results


E2E_GOAL = 0.5
E2E_THREADS = 8


def _threads(work, count):
    import threading

    threads = [threading.Thread(target=work) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return started


def devkit_end_to_end(recorder, per_thread):
    """ns per operation of 8 threads doing track() + op.tokens(), until everything is in the store."""
    from devkit.metrics.api import flush, track
    from devkit.metrics.recorder import write_to_store
    from devkit.store import Store

    def work():
        for _ in range(per_thread):
            with track("chat", model="llama3") as op:
                op.tokens(prompt=5, completion=7)

    recorder.writer = write_to_store
    started = _threads(work, E2E_THREADS)
    flush()
    took = time.perf_counter() - started
    recorder.writer = lambda batch, deadline=None: None
    with Store(os.path.join(".devkit", "devkit.db")) as store:
        stored = store.totals()["requests"]
    return took / (E2E_THREADS * per_thread) * 1e9, stored


def prometheus_end_to_end(per_thread):
    """The same work in prometheus_client: labelled Histogram.time() + two labelled counter inc()."""
    import prometheus_client as pc

    registry = pc.CollectorRegistry()
    latency = pc.Histogram("e2e_seconds", "latency", ["operation", "model"], registry=registry)
    tokens = pc.Counter("e2e_tokens", "tokens", ["operation", "model", "kind"], registry=registry)

    def work():
        for _ in range(per_thread):
            with latency.labels("chat", "llama3").time():
                tokens.labels("chat", "llama3", "prompt").inc(5)
                tokens.labels("chat", "llama3", "completion").inc(7)

    started = _threads(work, E2E_THREADS)
    return (time.perf_counter() - started) / (E2E_THREADS * per_thread) * 1e9


def report_end_to_end(recorder, per_thread):
    """Print the end-to-end line; return 1 when it misses its goal or loses an operation."""
    dk, stored = devkit_end_to_end(recorder, per_thread)
    pc = prometheus_end_to_end(per_thread)
    ratio, want = dk / pc, E2E_THREADS * per_thread
    ok = ratio <= E2E_GOAL and stored == want
    print(
        f"{'8 threads track+tokens':<24}{dk:>8.0f}   {'labelled time()+2 inc()':<24}{pc:>8.0f}  {ratio:>5.2f}x"
        f"  <= {E2E_GOAL:.1f}x {'PASS' if ok else 'FAIL'} (in the store: {stored} of {want})"
    )
    return 0 if ok else 1


FIRST_TOKEN_GOAL_NS = 150.0


def report_first_token(number, repeat):
    """Print what op.first_token() adds to ``with track()`` (interleaved runs); return 1 over its goal.

    "adds" is the whole difference, folding its stream sketches included; "call alone" is the
    method on the app's thread (an Operation reset each time, both sides).
    """
    from devkit.metrics.track import Operation

    dk_cases, dk_names, recorder = devkit_cases()
    names = dict(dk_names, op=Operation("chat"))
    plain, marked, bare, called = [], [], [], []
    for _ in range(repeat):
        plain.append(measure(dk_cases["with track(...)"], dk_names, number, 1, between=recorder.flush))
        marked.append(measure(dk_cases["track + first_token()"], dk_names, number, 1, between=recorder.flush))
        bare.append(measure("op.t_first = None", names, number, 1))
        called.append(measure("op.t_first = None\nop.first_token()", names, number, 1))
    added = statistics.median(marked) - statistics.median(plain)
    alone = statistics.median(called) - statistics.median(bare)
    ok = added < FIRST_TOKEN_GOAL_NS
    print(
        f"{'op.first_token() adds':<24}{added:>8.0f}   (with: {statistics.median(marked):.0f}, without:"
        f" {statistics.median(plain):.0f})  < {FIRST_TOKEN_GOAL_NS:.0f} ns {'PASS' if ok else 'FAIL'}"
    )
    print(f"{'first_token() call alone':<24}{alone:>8.0f}   (on the app thread, fold not included)")
    return 0 if ok else 1


def results_recorder():
    """The process-wide recorder the cases used."""
    from devkit.metrics.recorder import RECORDER

    return RECORDER


def report(results):
    """Print one line per pair with the ratio and PASS/FAIL against the goal; return failures."""
    print(f"python {sys.version.split()[0]}  (median ns per call; ratio = devkit / prometheus_client)")
    print(f"{'devkit':<24}{'ns':>8}   {'prometheus_client':<24}{'ns':>8}  {'ratio':>6}  goal")
    failures = 0
    goals = {dk: goal for dk, _pc, goal in PAIRS}
    for dk_case, (dk, pc_case, pc) in results.items():
        ratio = dk / pc
        goal = goals.get(dk_case)
        verdict = (
            "" if goal is None else (f"<= {goal:.1f}x PASS" if ratio <= goal else f"<= {goal:.1f}x FAIL")
        )
        failures += verdict.endswith("FAIL")
        print(f"{dk_case:<24}{dk:>8.0f}   {pc_case:<24}{pc:>8.0f}  {ratio:>5.2f}x  {verdict}")
    return failures


def rerun_with_prometheus(argv):
    """Run this script again in a venv that has prometheus_client; return its exit code."""
    python = os.path.join(VENV_DIR, "bin", "python")
    if not os.path.exists(python):
        print(f"prometheus_client not importable: installing it into {VENV_DIR}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", VENV_DIR], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "prometheus_client"], check=True)
    env = dict(os.environ, PYTHONPATH=REPO, **{REEXEC_FLAG: "1"})
    return subprocess.run([python, os.path.abspath(__file__), *argv], env=env).returncode


def main(argv=None):
    """Parse options, make sure prometheus_client is there, measure and print."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=100_000, help="calls per timed run")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case (median taken)")
    parser.add_argument("--e2e", type=int, default=100_000, help="operations per thread, end to end")
    args = parser.parse_args(argv)
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        if os.environ.get(REEXEC_FLAG):
            print("prometheus_client still not importable; no baseline", file=sys.stderr)
            return 1
        return rerun_with_prometheus(argv)
    with tempfile.TemporaryDirectory(prefix="devkit-bench-") as scratch:
        os.chdir(scratch)  # an empty project: the recorder loads default settings, writes nowhere
        results = run_all(args.number, args.repeat)
        failures = report(results)
        failures += report_first_token(args.number, args.repeat)
        failures += report_end_to_end(results_recorder(), args.e2e)
        os.chdir(REPO)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

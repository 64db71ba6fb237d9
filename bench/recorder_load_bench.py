"""Bench: the recorder under load, each scenario in a fresh child process against a real store.

  exact     8 threads x N track() as fast as they go, then 4 processes x 4 threads x M:
            `status --json` must show exactly every request and token.
  rss       peak RSS growth of 1M and 4M track() calls over 50 label combinations (goal <= 64 MiB, flat).
  steady    20,000 operations/s for S seconds: every raw row must be kept.
  kill9     6 writer processes at 15k ops/s each, one killed with -9: operations lost vs flush interval.
  outage    another process holds the store's write lock for S seconds while an app records 200,000
            operations across them: afterwards every one must be counted (and its memory stay bounded).

Usage: python3 bench/recorder_load_bench.py [--threads-calls N] [--proc-calls M] [--steady-s S]
       [--outage-s S] [--only NAME]
"""

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RSS_GOAL_MIB = 64

THREADS_CHILD = """
import sys, threading, devkit
calls, threads = int(sys.argv[1]), int(sys.argv[2])
def work(n):
    for i in range(calls):
        with devkit.track("chat", model="m" + str(i % 5)) as op:
            op.tokens(prompt=n + 1, completion=2)
ts = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
[t.start() for t in ts]
[t.join() for t in ts]
"""

RSS_CHILD = """
import resource, sys, devkit
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = peak()
marks = []
for i in range(int(sys.argv[1])):
    with devkit.track("op" + str(i % 10), model="m" + str(i % 5)) as op:
        op.tokens(prompt=1)
    if (i + 1) % 1_000_000 == 0:
        marks.append(round(peak() - base, 1))
print(marks)
"""

STEADY_CHILD = """
import sys, time, devkit
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
done = 0
while done < rate * seconds:
    target = int((time.monotonic() - start) * rate)
    while done < min(target, rate * seconds):
        with devkit.track("steady"):
            pass
        done += 1
    time.sleep(0.001)
print(done)
"""

KILL_CHILD = """
import os, sys, time, devkit
rate, name = int(sys.argv[1]), sys.argv[2]
start = time.monotonic()
done = 0
progress = open("progress-" + name, "a")
while True:
    target = int((time.monotonic() - start) * rate)
    while done < target:
        with devkit.track("k" + name):
            pass
        done += 1
    progress.write(f"{time.monotonic():.4f} {done}\\n")
    progress.flush()
    time.sleep(0.002)
"""

OUTAGE_CHILD = """
import resource, sys, time, devkit
calls, seconds = int(sys.argv[1]), float(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
for i in range(calls):
    with devkit.track("outage") as op:
        op.tokens(prompt=1)
    if i % 1000 == 999:  # spread evenly over the outage
        time.sleep(max(0.0, start + seconds * (i + 1) / calls - time.monotonic()))
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(f"recorded {calls} in {time.monotonic() - start:.1f} s, peak RSS growth {grown:.1f} MiB", flush=True)
time.sleep(5.0)  # the store is back: the flusher writes what it kept
"""


def _python(code, args, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _status(cwd):
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run(
        [sys.executable, "-m", "devkit", "status", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _project(metrics=None):
    cwd = tempfile.mkdtemp(prefix="devkit-load-")
    with open(os.path.join(cwd, "devkit.json"), "w") as handle:
        json.dump({"metrics": metrics or {}}, handle)
    return cwd


def exact(calls, proc_calls):
    """8 threads x calls, then 4 processes x 4 threads x proc_calls; print totals and verdicts."""
    ok = True
    for procs, threads, n in ((1, 8, calls), (4, 4, proc_calls)):
        cwd = _project()
        started = time.perf_counter()
        children = [_python(THREADS_CHILD, (n, threads), cwd) for _ in range(procs)]
        errors = [child.communicate()[1] for child in children]
        took = time.perf_counter() - started
        spills = [name for name in os.listdir(os.path.join(cwd, ".devkit")) if ".spill-" in name]
        if any(errors) or spills:
            print(f"  children's stderr: {[e[-300:] for e in errors if e]}; spill files: {len(spills)}")
        totals = _status(cwd)["totals"]
        want = procs * threads * n
        prompt = procs * n * sum(t + 1 for t in range(threads))
        good = totals["requests"] == want and totals["prompt_tokens"] == prompt
        ok &= good
        print(
            f"exact {procs}x{threads}x{n}: requests {totals['requests']} of {want}, prompt tokens"
            f" {totals['prompt_tokens']} of {prompt}, {took:.1f} s, {'PASS' if good else 'FAIL'}"
        )
    return ok


def rss(calls):
    """Peak RSS growth at each million calls."""
    out, err = _python(RSS_CHILD, (calls,), _project()).communicate()
    marks = json.loads(out)
    good = max(marks) <= RSS_GOAL_MIB and marks[-1] - marks[0] <= 8
    print(
        f"rss growth per million calls (MiB): {marks} (goal <= {RSS_GOAL_MIB}, flat) {'PASS' if good else 'FAIL'}"
    )
    return good


def steady(seconds, rate=20_000):
    """A steady rate for ``seconds``: raw rows kept must equal operations recorded."""
    cwd = _project()
    out, err = _python(STEADY_CHILD, (rate, seconds), cwd).communicate()
    info = _status(cwd)
    kept = info["store"]["operations"] if "store" in info else None
    requests = info["totals"]["requests"]
    good = requests == int(out) and kept in (None, requests)
    print(
        f"steady {rate}/s for {seconds} s: recorded {out.strip()}, counted {requests}, raw rows kept {kept}"
        f" {'PASS' if good else 'FAIL'}"
    )
    return good


def kill9(trials, rate=15_000, writers=6):
    """Kill one of ``writers`` processes with -9 per trial; print the seconds of operations it lost."""
    losses, windows = [], []
    for trial in range(trials):
        cwd = _project()
        children = [_python(KILL_CHILD, (rate, n), cwd) for n in range(writers)]
        time.sleep(6.0)  # steady state: every writer past start-up and its first flushes
        progress = os.path.join(cwd, "progress-0")
        children[0].send_signal(signal.SIGKILL)
        for child in children[1:]:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.communicate()
        marks = _progress_marks(progress)
        counted = sum(g["count"] for g in _breakdown(cwd) if g["operation"] == "k0")
        losses.append(max(0, marks[-1][1] - counted) / rate)
        windows.append(_lost_window(marks, counted))
    worst, worst_window = max(losses), max(windows)
    print(f"  lost operations / rate per trial: {[round(x, 2) for x in losses]}")
    print(f"  lost wall-clock window per trial: {[round(x, 2) for x in windows]}")
    print(
        f"kill -9 at {writers} x {rate}/s, {trials} trials: lost seconds (operations / rate) max {worst:.2f},"
        f" mean {sum(losses) / len(losses):.2f}; lost window (time since the last counted operation was"
        f" recorded) max {worst_window:.2f}, mean {sum(windows) / len(windows):.2f}"
        f" (goal <= flush interval + 0.25 = 1.25) {'PASS' if worst_window <= 1.25 else 'FAIL'}"
    )
    return worst_window <= 1.25


def outage(seconds, calls=200_000):
    """The store's write lock held by another process for ``seconds`` while an app records ``calls``."""
    cwd = _project({"flush_interval_s": 1.0})
    db = os.path.join(cwd, ".devkit", "devkit.db")
    os.makedirs(os.path.dirname(db))
    sys.path.insert(0, REPO)
    from devkit.store import Store

    Store(db).close()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    child = _python(OUTAGE_CHILD, (calls, seconds), cwd)
    try:
        said = child.stdout.readline().strip()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _out, err = child.communicate()
    with Store(db) as store:
        store.take_spills()
        totals, info = store.totals(), store.info()
    # The app is warned once that a flush failed and its data is kept: only a traceback is a failure.
    good = (totals["requests"], totals["prompt_tokens"]) == (calls, calls) and "Traceback" not in err
    print(
        f"outage: write lock held {seconds:.0f} s while the app {said or err[-300:]}; counted {totals['requests']}"
        f" of {calls}, prompt tokens {totals['prompt_tokens']}, raw rows {info['operations']} + not kept"
        f" {info['operations_not_kept']} {'PASS' if good else 'FAIL'}"
    )
    return good


def _progress_marks(path):
    # (monotonic time, operations done) after each burst; a half-written last line is skipped.
    marks = []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 2 and line.endswith("\n"):
                marks.append((float(parts[0]), int(parts[1])))
    return marks


def _lost_window(marks, counted):
    # A writer that fell behind catches up in bursts faster than the rate, so operations / rate can
    # overstate how long a window was lost: this is the time from the last mark the store covers to the kill.
    covered = [t for t, done in marks if done <= counted]
    return marks[-1][0] - (covered[-1] if covered else marks[0][0])


def _breakdown(cwd):
    sys.path.insert(0, REPO)
    from devkit.store import Store

    # As the next writer would: journals and spill files of the dead writer count once taken in.
    with Store(os.path.join(cwd, ".devkit", "devkit.db")) as store:
        store.take_spills()
        return store.breakdown()


def main(argv=None):
    """Run the chosen scenarios; exit 1 when any misses its goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads-calls", type=int, default=1_000_000)
    parser.add_argument("--proc-calls", type=int, default=250_000)
    parser.add_argument("--rss-calls", type=int, default=4_000_000)
    parser.add_argument("--steady-s", type=float, default=30.0)
    parser.add_argument("--kill-trials", type=int, default=20)
    parser.add_argument("--outage-s", type=float, default=30.0)
    parser.add_argument("--only", choices=("exact", "rss", "steady", "kill9", "outage"))
    args = parser.parse_args(argv)
    runs = {
        "exact": lambda: exact(args.threads_calls, args.proc_calls),
        "rss": lambda: rss(args.rss_calls),
        "steady": lambda: steady(args.steady_s),
        "kill9": lambda: kill9(args.kill_trials),
        "outage": lambda: outage(args.outage_s),
    }
    results = [run() for name, run in runs.items() if args.only in (None, name)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

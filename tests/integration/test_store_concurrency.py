"""Many writers at once (threads and processes) lose nothing; kill -9 leaves a sound store."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from devkit.store import Store
from tests.conftest import REPO_ROOT
from tests.integration._store_helpers import batch_of

NOW = 1_800_000_000.0

WRITER = """
import sys, time
from devkit.store import Store
from tests.integration._store_helpers import batch_of
path, worker, batches, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with Store(path) as store:
    for n in range(batches):
        store.write_batch(batch_of(worker * 10**7 + n * size, size, time.time(), prompt=3, completion=worker))
        print(n + 1, flush=True)
"""


def _spawn(path, worker, batches, size):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    args = [sys.executable, "-c", WRITER, str(path), str(worker), str(batches), str(size)]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)


def test_threads_each_with_a_store_and_sharing_one_lose_nothing(tmp_path):
    path = tmp_path / "devkit.db"
    shared = Store(path)

    def work(worker):
        own = Store(path) if worker % 2 else shared
        for n in range(40):
            own.write_batch(batch_of(worker * 10**6 + n * 25, 25, NOW, prompt=1, completion=worker))
        if own is not shared:
            own.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    totals = shared.totals()
    shared.close()
    assert totals["requests"] == 6 * 40 * 25
    assert totals["prompt_tokens"] == 6000
    assert totals["completion_tokens"] == sum(w * 1000 for w in range(6))


def test_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "state" / "devkit.db"
    procs = [_spawn(path, w, 30, 200) for w in range(4)]
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    with Store(path) as store:
        totals = store.totals()
        assert store.info()["operations"] == 24000
    assert totals["requests"] == 4 * 30 * 200
    assert totals["prompt_tokens"] == 3 * 24000
    assert totals["completion_tokens"] == sum(w * 6000 for w in range(4))
    assert sorted(os.listdir(tmp_path / "state")) == ["devkit.db"]


def test_kill_9_mid_stream_loses_at_most_the_unflushed_batch(tmp_path):
    path = tmp_path / "devkit.db"
    proc = _spawn(path, 1, 100000, 100)
    flushed = 0
    deadline = time.monotonic() + 30
    while flushed < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "the writer died early"
        flushed = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    reported = [int(line) for line in proc.stdout.read().split()]
    flushed = max([flushed] + reported)
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store(path) as store:
        requests = store.totals()["requests"]
        operations = store.info()["operations"]
    assert flushed >= 40
    # a batch is reported only after its commit; at most the one in flight may be committed unreported
    assert flushed * 100 <= requests <= flushed * 100 + 100
    assert operations == requests


TRACKER = """
import time
import devkit

recorded = 0
next_report = time.monotonic()
while True:
    with devkit.track("chat", model="llama3") as op:
        op.tokens(prompt=1, completion=1)
    recorded += 1
    if time.monotonic() >= next_report:
        print(recorded, flush=True)
        next_report += 0.05
    time.sleep(0.0005)
"""


def test_kill_9_of_a_tracking_app_loses_at_most_the_last_flush_interval(tmp_path):
    interval_s, margin_s = 0.2, 1.0
    (tmp_path / "devkit.json").write_text('{"metrics": {"flush_interval_s": %s}}' % interval_s)
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    env.pop("DEVKIT_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", TRACKER], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, text=True
    )
    seen = []  # (when the parent read it, operations the child had recorded by then)
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        line = proc.stdout.readline()
        assert line, "the tracking child died early"
        seen.append((time.monotonic(), int(line)))
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    proc.wait(10)
    last_reported = max([seen[-1][1]] + [int(n) for n in proc.stdout.read().split()])
    path = tmp_path / ".devkit" / "devkit.db"
    conn = sqlite3.connect(str(path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Store(path) as store:
        stored = store.totals()["requests"]
    surely_flushed = max(n for when, n in seen if when <= killed_at - interval_s - margin_s)
    # at most ~100 operations fit between the child's last report and the kill (a report every 50 ms)
    assert surely_flushed <= stored <= last_reported + 1000, (surely_flushed, stored, last_reported)


def _wait_for(condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "writers made no progress"
        time.sleep(0.005)


def test_reset_during_live_writes_keeps_every_batch_written_after_it(tmp_path):
    path = tmp_path / "devkit.db"
    written = []  # (epoch the batch landed in, size)
    stop = threading.Event()

    def work(worker):
        with Store(path) as store:
            n = 0
            while not stop.is_set() or n < 20:
                written.append((store.write_batch(batch_of(worker * 10**6 + n * 7, 7, NOW)), 7))
                n += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    with Store(path) as admin:
        try:
            _wait_for(lambda: len(written) >= 30)
            admin.reset()
            target = len(written) + 10
            _wait_for(lambda: len(written) >= target)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        after = sum(size for epoch, size in written if epoch == 1)
        assert 0 < after < sum(size for _, size in written)
        assert admin.totals()["requests"] == after == admin.info()["operations"]

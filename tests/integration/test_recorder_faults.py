"""The recorder under faults, each in a real child process: bursts, signals, pools, a held store lock."""

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from devkit.store import Store
from devkit.store.schema import SCHEMA_VERSION
from tests.conftest import REPO_ROOT, clean_env


def _project(tmp_path, metrics=None):
    (tmp_path / "devkit.json").write_text(json.dumps({"metrics": metrics or {}}))
    return tmp_path / ".devkit" / "devkit.db"


def _start(tmp_path, code):
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=str(tmp_path),
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run(tmp_path, code, timeout=120):
    proc = _start(tmp_path, code)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _totals(db):
    with Store(db) as store:
        return store.totals(), store.info()


def test_eight_threads_bursting_as_fast_as_they_go_are_counted_exactly(tmp_path):
    db = _project(tmp_path)
    code, _, err = _run(
        tmp_path,
        """
        import threading, devkit
        def work(n):
            for i in range(50_000):
                with devkit.track("chat", model="m" + str(i % 5)) as op:
                    op.tokens(prompt=n + 1, completion=3)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    """,
    )
    assert code == 0, err
    totals, info = _totals(db)
    assert (totals["requests"], totals["errors"]) == (400_000, 0)
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (50_000 * 36, 400_000 * 3)
    assert info["operations"] + info["operations_not_kept"] == 400_000


APP_RECORDING_THEN_WAITING = """
    import os, signal, sys, time
    # As started from a terminal: a run under nohup (SIGHUP ignored) must not change what is tested.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    import devkit
    {handler}
    for i in range(30_000):
        with devkit.track("work") as op:
            op.tokens(prompt=1)
    print("ready", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_termination_signal_flushes_and_the_process_still_dies_by_it(tmp_path, signum):
    db = _project(tmp_path, {"flush_interval_s": 60})
    proc = _start(tmp_path, APP_RECORDING_THEN_WAITING.format(handler=""))
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signum)
    proc.communicate(timeout=30)
    assert proc.returncode == -signum
    assert _totals(db)[0]["requests"] == 30_000


def test_an_app_started_under_nohup_still_ignores_sighup(tmp_path):
    db = _project(tmp_path, {"flush_interval_s": 60})
    ignored = "signal.signal(signal.SIGHUP, signal.SIG_IGN)"  # what nohup hands down
    proc = _start(tmp_path, APP_RECORDING_THEN_WAITING.format(handler=ignored))
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGHUP)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=1.0)  # still running: the hangup stays ignored
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert _totals(db)[0]["requests"] == 30_000


def test_the_apps_own_sigterm_handler_still_runs_after_the_flush(tmp_path):
    db = _project(tmp_path, {"flush_interval_s": 60})
    handler = "signal.signal(signal.SIGTERM, lambda s, f: (print('app handler', flush=True), sys.exit(7)))"
    proc = _start(tmp_path, APP_RECORDING_THEN_WAITING.format(handler=handler))
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (7, "app handler\n"), err
    assert _totals(db)[0]["requests"] == 30_000


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers_store_every_operation(tmp_path, method):
    db = _project(tmp_path, {"flush_interval_s": 60})
    (tmp_path / "jobs.py").write_text(textwrap.dedent("""
        import devkit
        def job(n):
            for _ in range(1000):
                with devkit.track("pooled") as op:
                    op.tokens(prompt=1)
            return n
    """))
    code, _, err = _run(
        tmp_path,
        f"""
        import multiprocessing, jobs
        if __name__ == "__main__":
            with multiprocessing.get_context("{method}").Pool(4) as pool:
                pool.map(jobs.job, range(10))
    """,
    )
    assert code == 0, err
    totals = _totals(db)[0]
    assert (totals["requests"], totals["prompt_tokens"]) == (10_000, 10_000)


def _hold_write_lock(db):
    conn = sqlite3.connect(str(db), isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_exit_with_the_store_locked_waits_at_most_the_bound_then_spills_and_the_next_writer_counts_once(
    tmp_path,
):
    db = _project(tmp_path)
    Store(db).close()
    holder = _hold_write_lock(db)
    try:
        started = time.monotonic()
        code, _, err = _run(
            tmp_path,
            """
            import devkit
            for i in range(20_000):
                with devkit.track("late") as op:
                    op.tokens(prompt=2)
        """,
        )
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 0 and "Traceback" not in err, err
    assert took < 5.0 + 8.0  # the 5 s bound plus interpreter start-up on a loaded machine
    spills = sorted(p.name for p in db.parent.iterdir() if ".spill-" in p.name)
    assert len(spills) == 1
    with Store(db) as store:
        assert store.info()["spills_pending"] == 1
        assert store.take_spills() == 1 and store.take_spills() == 0
        totals = store.totals()
    assert (totals["requests"], totals["prompt_tokens"]) == (20_000, 40_000)
    assert not [p for p in db.parent.iterdir() if ".spill-" in p.name]


def test_a_spill_file_already_taken_in_is_not_counted_twice(tmp_path):
    from devkit.core.records import Batch
    from devkit.core.rollup import fold
    from devkit.store.spill import write_spill

    db = _project(tmp_path)
    groups = {}
    fold(groups, time.time(), "s", None, "ok", 0.1, 3, 4, None, 0.0)
    path = write_spill(str(db), Batch(aggregates=groups), time.time())
    copy = open(path, "rb").read()
    with Store(db) as store:
        assert store.take_spills() == 1
        open(path, "wb").write(copy)  # a crash after the commit, before the file was removed
        store.take_spills()
        assert store.totals()["requests"] == 1


def test_a_store_locked_for_seconds_while_recording_loses_no_count(tmp_path):
    db = _project(tmp_path, {"flush_interval_s": 0.2})
    Store(db).close()
    holder = _hold_write_lock(db)
    proc = _start(
        tmp_path,
        """
        import time, devkit
        for i in range(200_000):
            with devkit.track("outage") as op:
                op.tokens(prompt=1)
        print("recorded", flush=True)
        time.sleep(5.0)  # the store comes back meanwhile; the flusher writes what it kept
    """,
    )
    try:
        proc_out = proc.stdout.readline()
        time.sleep(3.0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = proc.communicate(timeout=60)
    assert proc_out == "recorded\n" and proc.returncode == 0, err
    totals, info = _totals(db)
    assert (totals["requests"], totals["prompt_tokens"]) == (200_000, 200_000)
    assert info["operations"] + info["operations_not_kept"] == 200_000


V1_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE operations (seq INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, id TEXT, ts REAL NOT NULL,
    operation TEXT NOT NULL, model TEXT, status TEXT NOT NULL, duration_ms REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cache_hit INTEGER,
    cost REAL NOT NULL, error TEXT, detail TEXT, labels TEXT);
CREATE INDEX operations_epoch_ts ON operations (epoch, ts);
CREATE INDEX operations_ts ON operations (ts);
INSERT INTO meta VALUES ('epoch', '0');
INSERT INTO operations VALUES (1, 0, 'old1', 1700000000.0, 'chat', 'm', 'ok', 12.0, 3, 4, NULL, 0.0, NULL, NULL, NULL);
PRAGMA user_version = 1;
"""


def test_a_version_1_store_is_migrated_and_keeps_its_operations(tmp_path):
    db = tmp_path / "devkit.db"
    conn = sqlite3.connect(str(db))
    conn.executescript(V1_DDL)
    conn.close()
    with Store(db) as store:
        assert [op["id"] for op in store.recent(10)] == ["old1"]
        info = store.info()
        assert (info["operations"], info["operations_not_kept"], info["records_dropped"]) == (1, 0, 0)
    conn = sqlite3.connect(str(db))
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not {"operations_epoch_ts", "operations_ts"} & indexes
    conn.close()


def test_devkit_flush_at_the_top_level_writes_now(tmp_path):
    db = _project(tmp_path, {"flush_interval_s": 60})
    code, out, err = _run(
        tmp_path,
        """
        import devkit
        from devkit.store import Store
        for i in range(10):
            with devkit.track("now"):
                pass
        print(devkit.flush(), Store(".devkit/devkit.db").totals()["requests"])
    """,
    )
    assert (code, out) == (0, "10 10\n"), err


def test_flushes_with_a_deadline_still_prune_old_raw_rows(tmp_path):
    from devkit.core.records import Batch
    from devkit.store import core
    from tests.integration._store_helpers import record

    db = _project(tmp_path)
    old = time.time() - 30 * 86400
    with Store(db, retention_days=7) as store:
        store.write_batch(Batch([record(1, old)]))
        core._NEXT_PRUNE_CHECK.pop(store.path, None)
        store.conn.execute("DELETE FROM meta WHERE key = 'last_prune_ts'")
        store.write_batch(Batch([record(2, time.time())]), deadline=time.monotonic() + 5)
        assert [op["id"] for op in store.recent(10)] == ["r2"]


def test_a_spill_keeps_short_and_streamed_rows_with_their_stream_columns(tmp_path):
    from devkit.core.records import Batch
    from devkit.store.spill import write_spill

    db = _project(tmp_path)
    now = time.time()
    plain = (now - 2, "plain", "m", "ok", 250.0, 3, 0, 0.0)
    streamed = (now - 1, "streamed", "m", "ok", 500.0, 2, 9, 0.0, 125.0, 1)
    write_spill(str(db), Batch(plain=[plain], streamed=[streamed], not_kept=0), now)
    with Store(db) as store:
        assert store.take_spills() == 1
        rows = store.conn.execute(
            "SELECT operation, duration_ms, prompt_tokens, completion_tokens, ttft_ms, chunks FROM operations"
            " ORDER BY ts"
        ).fetchall()
    assert rows == [("plain", 250.0, 3, 0, None, None), ("streamed", 500.0, 2, 9, 125.0, 1)]

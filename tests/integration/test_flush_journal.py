"""A flush's counts are in a journal before its transaction: kill -9 while it waits loses no count."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

from devkit.core.records import Batch
from devkit.core.rollup import fold
from devkit.store import Store
from devkit.store.spill import write_spill
from tests.conftest import REPO_ROOT, clean_env

APP = """
    import devkit
    for i in range(5_000):
        with devkit.track("journaled") as op:
            op.tokens(prompt=2)
    devkit.flush()
"""


def _journals(directory):
    return [p for p in directory.iterdir() if p.name.endswith("-journal.jsonl")]


def test_kill_9_while_the_flush_waits_for_the_lock_loses_no_count(tmp_path):
    (tmp_path / "devkit.json").write_text(json.dumps({"metrics": {"flush_interval_s": 60}}))
    db = tmp_path / ".devkit" / "devkit.db"
    db.parent.mkdir()
    Store(db).close()
    holder = sqlite3.connect(str(db), isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    app = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(APP)],
        cwd=str(tmp_path),
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not _journals(db.parent) and time.monotonic() < deadline and app.poll() is None:
            time.sleep(0.05)
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert app.returncode == -signal.SIGKILL
    with Store(db) as store:
        assert store.take_spills() == 1 and store.take_spills() == 0
        totals, info = store.totals(), store.info()
    assert (totals["requests"], totals["prompt_tokens"]) == (5_000, 10_000)
    assert (info["operations"], info["operations_not_kept"]) == (0, 5_000)
    assert _journals(db.parent) == []


def test_a_live_processes_journal_is_left_to_it_and_a_committed_one_counts_once(tmp_path):
    db = str(tmp_path / "devkit.db")
    groups = {}
    fold(groups, time.time(), "j", None, "ok", 0.1, 3, 4, None, 0.0)
    path = write_spill(db, Batch(aggregates=groups), time.time(), journal=True)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    orphan = path.replace(f"-{os.getpid()}-", f"-{int(dead.stdout)}-")
    with Store(db) as store:
        assert store.take_spills() == 0  # this very process is alive: its own flush writes it
        store.write_batch(Batch(aggregates=groups), spill_name=os.path.basename(orphan))
        os.rename(path, orphan)  # killed after its commit, before removing the journal
        assert store.take_spills() == 1
        assert store.totals()["requests"] == 1
    assert not os.path.exists(orphan)


def test_names_of_spill_files_long_gone_are_forgotten_and_present_ones_kept(tmp_path):
    db = tmp_path / "devkit.db"
    (tmp_path / "devkit.db.spill-kept.jsonl").write_text("")
    now = time.time()
    with Store(db) as store:
        for name in ("devkit.db.spill-kept.jsonl", "devkit.db.spill-gone.jsonl"):
            store.conn.execute("INSERT INTO spills (name, ts) VALUES (?, ?)", (name, now - 7200))
        store.conn.execute("INSERT INTO spills (name, ts) VALUES ('devkit.db.spill-new.jsonl', ?)", (now,))
        store.conn.execute("DELETE FROM meta WHERE key = 'last_prune_ts'")
        assert store.prune(now)
        names = sorted(row[0] for row in store.conn.execute("SELECT name FROM spills"))
    assert names == ["devkit.db.spill-kept.jsonl", "devkit.db.spill-new.jsonl"]


def test_a_journal_is_renamed_into_place_without_fsync_and_an_exit_spill_with_it(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    groups = {}
    fold(groups, time.time() - 5, "chat", "m", "ok", 0.01, 3, 4, None, 0.0)
    db = str(tmp_path / "devkit.db")
    journal = write_spill(db, Batch(aggregates=groups), time.time(), journal=True)
    assert synced == [] and os.path.exists(journal)
    spill = write_spill(db, Batch(aggregates=groups), time.time())
    assert len(synced) == 2 and os.path.exists(spill)  # the file, then its folder

"""Readers open the store read-only and validated; a broken store is one line and exit 1 on every reader."""

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from devkit.store.schema import SCHEMA_VERSION
from tests.conftest import REPO_ROOT, clean_env
from tests.integration._store_helpers import record, write_config

READERS = (
    ["status"],
    ["metrics"],
    ["metrics", "tokens"],
    ["metrics", "export"],
    ["metrics", "export", "--format", "csv", "--operations"],
    ["metrics", "export", "--format", "prom"],
)
# Warm up as root on a writable copy (so lazily imported modules load while /root is readable), then drop
# to nobody and run the real command against the read-only project.
AS_NOBODY = """
import io, os, shutil, sys, tempfile
import devkit.cli
from devkit.context import Context
work = os.path.join(tempfile.mkdtemp(), "p")
shutil.copytree(os.getcwd(), work)
for argv in READERS:
    devkit.cli.main(argv + ["--json"], Context(stdout=io.StringIO(), stderr=io.StringIO(), cwd=work))
    devkit.cli.main(argv, Context(stdout=io.StringIO(), stderr=io.StringIO(), cwd=work))
shutil.rmtree(os.path.dirname(work))
os.setgid(65534)
os.setuid(65534)
sys.exit(devkit.cli.main(sys.argv[1:]))
"""


def _fill(root, count=40):
    write_config(root)
    now = time.time()
    db = os.path.join(str(root), ".devkit", "devkit.db")
    with Store(db) as store:
        store.write_batch(
            Batch(
                [record(i, now - count + i, operation=f"op{i % 5}", detail="x" * 200) for i in range(count)]
            )
        )
    return db


def _lines(result):
    return result.err.strip().splitlines()


def _as_reader(root, argv):
    """Run the CLI in a subprocess as a user who may only read (nobody when the tests run as root)."""
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    if os.geteuid() == 0:
        cmd = [sys.executable, "-c", f"READERS = {READERS!r}\n" + AS_NOBODY, *argv]
    else:
        cmd = [sys.executable, "-m", "devkit", *argv]
    return subprocess.run(cmd, cwd=str(root), env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not hasattr(os, "setuid"), reason="needs POSIX users")
def test_a_user_who_can_only_read_the_store_runs_status_and_export():
    # Not under tmp_path: pytest's base folder is private to its user, and the reader must reach the project.
    top = tempfile.mkdtemp(prefix="devkit-ro-")
    root = os.path.join(top, "p")
    os.mkdir(root)
    db = _fill(root)
    for path in (db, os.path.dirname(db), root, os.path.join(root, "devkit.json"), top):
        os.chmod(path, 0o555 if os.path.isdir(path) else 0o444)
    try:
        outputs = {}
        for argv in (["status", "--json"], ["metrics", "export", "--format", "csv"], ["metrics", "tokens"]):
            proc = _as_reader(root, argv)
            assert proc.returncode == 0 and not proc.stderr, (argv, proc.stderr)
            outputs[argv[-1]] = proc.stdout
        listing = sorted(os.listdir(os.path.dirname(db)))
    finally:
        for path in (top, root, os.path.dirname(db)):
            os.chmod(path, 0o755)
        shutil.rmtree(top)
    assert json.loads(outputs["--json"])["totals"]["requests"] == 40
    assert outputs["csv"].count("\nseries,") == 5 and "op4" in outputs["tokens"]
    # Nothing left behind that the reader would own (no -wal/-shm).
    assert listing == ["devkit.db"]


def test_readers_never_create_a_store(cli, tmp_path):
    write_config(tmp_path)
    for argv in READERS:
        assert cli(*argv).code == 0
    assert not os.path.exists(tmp_path / ".devkit")


def test_corruption_is_one_line_and_exit_1_on_every_reader(cli, tmp_path):
    db = _fill(tmp_path, count=8000)
    size = os.path.getsize(db)
    with open(db, "r+b") as handle:
        handle.seek(size // 2)
        handle.write(
            random.Random(3).randbytes(80 * 1024)
            if hasattr(random.Random, "randbytes")
            else bytes(random.Random(3).getrandbits(8) for _ in range(80 * 1024))
        )
    for argv in READERS:
        result = cli(*argv)
        assert result.code == 1, (argv, result)
        assert _lines(result) == [
            f"devkit: error: {db}: cannot read the metrics store: database disk image is malformed"
        ]
    health = cli("health", "--check", "store", "--json")
    assert health.code == 1 and "malformed" in health.out


@pytest.mark.parametrize(
    "sql, problem",
    [
        ("PRAGMA user_version = 99", f"schema version 99 is newer than this devkit ({SCHEMA_VERSION})"),
        ("PRAGMA user_version = 0", f"schema version 0, expected {SCHEMA_VERSION} (not a devkit store?)"),
        ("DROP TABLE aggregates", "missing table aggregates"),
        ("UPDATE meta SET value = 'abc' WHERE key = 'epoch'", "meta.epoch is 'abc', not a whole number"),
    ],
)
def test_an_unusable_store_is_one_line_on_every_reader_and_in_health(cli, tmp_path, sql, problem):
    db = _fill(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()
    want = f"{db}: not a usable metrics store: {problem}"
    for argv in READERS:
        result = cli(*argv)
        assert (result.code, _lines(result)) == (1, [f"devkit: error: {want}"]), argv
    health = cli("health", "--check", "store", "--json")
    assert health.code == 1 and want in health.out


def test_reading_an_idle_store_leaves_no_wal_or_shm_behind(cli, tmp_path):
    db = _fill(tmp_path)
    mtime = os.stat(db).st_mtime_ns
    for argv in READERS:
        assert cli(*argv).code == 0
        assert sorted(os.listdir(os.path.dirname(db))) == ["devkit.db"], argv
    assert os.stat(db).st_mtime_ns == mtime

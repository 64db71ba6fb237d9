"""Backups as real processes: bin/ launchers on old and new Pythons, kill -9, live writers."""

import glob
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time

import pytest

from devkit.maintenance.archive import TMP_PREFIX
from devkit.maintenance.backup import list_backups, verify_backup
from tests.conftest import REPO_ROOT, clean_env
from tests.integration._backup_helpers import make_tree, manifest_member, member, write_members

PYTHONS = ["python3.9", "python3.13"]


def _python(name):
    """``name`` on PATH, else a pyenv install of it (its shim may not be active)."""
    pyenv = glob.glob(os.path.expanduser(f"~/.pyenv/versions/{name[6:]}*/bin/{name}"))
    for path in [shutil.which(name)] + sorted(pyenv):
        if path and subprocess.run([path, "-c", "0"], capture_output=True).returncode == 0:
            return path
    pytest.skip(f"{name} not installed")


def _box(tmp_path):
    """bin/backup, bin/restore and devkit/ copied into an empty folder: no install, no PYTHONPATH."""
    box = tmp_path / "box"
    shutil.copytree(
        os.path.join(REPO_ROOT, "devkit"), str(box / "devkit"), ignore=shutil.ignore_patterns("__pycache__")
    )
    (box / "bin").mkdir()
    for name in ("backup", "restore"):
        shutil.copy2(os.path.join(REPO_ROOT, "bin", name), str(box / "bin" / name))
    return box


def _run(python, script, *argv, cwd):
    env = clean_env()
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [python, script, *argv], cwd=str(cwd), env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("python_name", PYTHONS)
def test_copied_bin_scripts_create_list_verify_restore(tmp_path, python_name):
    python, box = _python(python_name), _box(tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    data = make_tree(str(project))
    backup, restore = str(box / "bin" / "backup"), str(box / "bin" / "restore")
    created = _run(python, backup, "create", "--source", "data", "--dest", "b", cwd=project)
    assert created.returncode == 0, created.stderr
    name = os.listdir(str(project / "b"))
    name = [n for n in name if n.endswith(".tar.gz")][0]
    assert name in _run(python, backup, "list", "--dest", "b", cwd=project).stdout
    verified = _run(python, backup, "verify", name, "--dest", "b", cwd=project)
    assert verified.returncode == 0 and verified.stdout.startswith(f"ok      {name} (12 files)")
    restored = _run(python, restore, name, "--dest", "b", "--target", "back", cwd=project)
    assert restored.returncode == 0, restored.stderr
    from tests.integration.test_restore import snapshot

    assert snapshot(str(project / "back" / "data")) == snapshot(data)


CRAFTED = {
    "absolute": (member("/tmp/devkit-evil.txt", b"x"), "/tmp/devkit-evil.txt: refused: absolute path"),
    "dotdot": (member("a/../../evil.txt", b"x"), "a/../../evil.txt: refused: '..' path component"),
    "symlink": (
        member("a/link", kind=tarfile.SYMTYPE, linkname="../../x"),
        "a/link: refused: symlink to '../../x' points outside the target",
    ),
    "hardlink": (
        member("a/hard", kind=tarfile.LNKTYPE, linkname="/etc/passwd"),
        "a/hard: refused: hardlink to '/etc/passwd', which is not a file earlier in the archive",
    ),
    "chardev": (member("a/tty", kind=tarfile.CHRTYPE), "a/tty: refused: is a character device"),
    "blockdev": (member("a/sda", kind=tarfile.BLKTYPE), "a/sda: refused: is a block device"),
    "fifo": (member("a/pipe", kind=tarfile.FIFOTYPE), "a/pipe: refused: is a FIFO"),
    "setuid": (member("a/x.sh", b"#!/bin/sh\n", mode=0o4755), "a/x.sh: refused: setuid/setgid bit set"),
}


@pytest.mark.parametrize("python_name", PYTHONS)
def test_crafted_archives_are_refused_by_bin_restore(tmp_path, python_name):
    python, box = _python(python_name), _box(tmp_path)
    for case, (evil, line) in CRAFTED.items():
        work = tmp_path / case
        work.mkdir()
        members = [member("a/ok.json", b"{}"), evil]
        write_members(str(work / "evil.tar.gz"), members + [manifest_member(members)])
        result = _run(
            python, str(box / "bin" / "restore"), "evil.tar.gz", "--dest", ".", "--target", "t", cwd=work
        )
        assert result.returncode == 4, (case, result.stderr)
        assert result.stderr.splitlines()[-1] == f"devkit: error: {line}", case
        assert sorted(os.listdir(str(work))) == [".devkit", "evil.tar.gz"], case
    assert not os.path.exists("/tmp/devkit-evil.txt")


def _killed_create(project, env, delay_s=None, grown_to=None):
    """Start a create and kill -9 it after ``delay_s``, or once its temp archive holds ``grown_to`` bytes
    (never, when the run ends first); return the temp files left in the backup folder."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "devkit", "backup", "create", "--source", "data", "--dest", "b"],
        cwd=str(project),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if delay_s is not None:
        time.sleep(delay_s)
    else:
        _wait_for_temp_archive(project / "b", proc, grown_to)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return (
        [n for n in os.listdir(str(project / "b")) if n.startswith(TMP_PREFIX)]
        if (project / "b").exists()
        else []
    )


def _wait_for_temp_archive(folder, proc, grown_to, limit_s=120):
    """Poll (bounded by ``limit_s``) until a temp archive in ``folder`` holds ``grown_to`` bytes or ``proc`` ends."""
    deadline = time.monotonic() + limit_s
    while proc.poll() is None and time.monotonic() < deadline:
        for name in os.listdir(str(folder)) if folder.exists() else ():
            if name.startswith(TMP_PREFIX) and name.endswith(".tar.gz"):
                try:
                    if os.path.getsize(str(folder / name)) >= grown_to:
                        return
                except FileNotFoundError:
                    pass
        time.sleep(0.001)


def test_kill_9_during_30_creates_never_lists_a_bad_backup(tmp_path, run_devkit):
    project = tmp_path / "p"
    project.mkdir()
    make_tree(str(project), files=200)
    with open(str(project / "data" / "blob.bin"), "wb") as handle:
        handle.write(os.urandom(3 << 20))
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    started = time.perf_counter()
    assert run_devkit("backup", "create", "--source", "data", "--dest", "b", cwd=str(project)).code == 0
    full_s = time.perf_counter() - started
    full_bytes = max(os.path.getsize(row["path"]) for row in list_backups(str(project / "b")))
    rng, checked, leftovers, killed_writing = random.Random(12), set(), [], 0
    for round_ in range(30):
        # Even rounds kill at a random moment of a whole run's time (start-up, walk, after the rename);
        # odd rounds once the temp archive holds a random share of a full archive's bytes, so however
        # loaded the machine, some kills land while the archive is being written.
        before = set(leftovers)
        if round_ % 2:
            leftovers = _killed_create(project, env, grown_to=rng.uniform(0.0, 1.0) * full_bytes)
        else:
            leftovers = _killed_create(project, env, delay_s=rng.uniform(0.1, 1.2) * full_s)
        killed_writing += bool(set(leftovers) - before)
        for row in list_backups(str(project / "b")):
            if row["name"] not in checked:
                assert verify_backup(row["path"])["ok"], row["name"]
                checked.add(row["name"])
    for _extra in range(20):
        if leftovers:
            break
        leftovers = _killed_create(project, env, grown_to=0)
    assert (
        killed_writing and leftovers
    ), "no run was killed while writing: the test did not test the crash path"
    final = run_devkit("backup", "create", "--source", "data", "--dest", "b", cwd=str(project))
    assert final.code == 0, final.err
    assert [
        f"devkit: removed {n}, left by an interrupted backup" for n in sorted(leftovers)
    ] == final.err.splitlines()
    assert [n for n in os.listdir(str(project / "b")) if n.startswith(TMP_PREFIX)] == []


WRITER = """
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, payload TEXT)")
db.commit()
deadline = time.time() + 30
while time.time() < deadline and not os.path.exists(sys.argv[2]):
    with db:
        db.executemany("INSERT INTO runs (payload) VALUES (?)", [("x" * 500,)] * 50)
        db.execute("DELETE FROM runs WHERE id % 7 = 0 AND id > (SELECT max(id) - 2000 FROM runs)")
"""


def test_sqlite_written_during_create_restores_consistent(tmp_path, run_devkit):
    data = tmp_path / "data"
    data.mkdir()
    db, stop = str(data / "app.db"), str(tmp_path / "stop")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db, stop])
    try:
        while not os.path.exists(db) or os.path.getsize(db) < (2 << 20):
            time.sleep(0.05)
        results = [
            run_devkit("--json", "backup", "create", "--source", "data", "--dest", "b") for _ in range(3)
        ]
    finally:
        open(stop, "w").close()
        writer.wait(timeout=60)
    for i, result in enumerate(results):
        assert result.code == 0, result.err
        name = __import__("json").loads(result.out)["name"]
        restored = run_devkit("restore", name, "--dest", "b", "--target", f"r{i}")
        assert restored.code == 0, restored.err
        copy = sqlite3.connect(str(tmp_path / f"r{i}" / "data" / "app.db"))
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
        copy.close()


APPENDER = """
import sys, time, os
with open(sys.argv[1], "ab", buffering=0) as log:
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(sys.argv[2]):
        log.write(b"line\\n")
"""


def test_a_file_changing_while_read_is_reported_with_exit_1(tmp_path, run_devkit):
    data = tmp_path / "data"
    data.mkdir()
    log, stop = str(data / "app.log"), str(tmp_path / "stop")
    with open(log, "wb") as handle:
        handle.write(b"x" * (32 << 20))
    appender = subprocess.Popen([sys.executable, "-c", APPENDER, log, stop])
    try:
        time.sleep(0.2)
        result = run_devkit("backup", "create", "--source", "data", "--dest", "b")
    finally:
        open(stop, "w").close()
        appender.wait(timeout=60)
    assert result.code == 1, result.err
    assert f"devkit: warning: {log}: changed while it was read; the archived copy may be torn" in result.err
    name = [n for n in os.listdir(str(tmp_path / "b")) if n.endswith(".tar.gz")][0]
    assert verify_backup(str(tmp_path / "b" / name))["ok"] is True

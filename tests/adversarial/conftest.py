"""Fixtures for hostile input and faults: a held store write lock, special files, hostile names, a project."""

import contextlib
import json
import os
import stat
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import run_in_process

HOSTILE = "evil\x1b[31mRED\x1b[0m\nline2\r\x07"
"""A name that would recolour a terminal, break a line, move the cursor and ring the bell."""

_LOCK_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


def run_cli(root, *argv, env=None, stdin=""):
    """Run ``devkit`` in-process in ``root``; return (code, out, err)."""
    result = run_in_process(argv, root, env, stdin)
    return result.code, result.out, result.err


def write_json(path, data):
    """Write ``data`` as JSON to ``path``; return the path as str."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return str(path)


def ingest_events(root, events):
    """Store ``events`` (dicts) through ``devkit metrics ingest``; assert it worked."""
    source = os.path.join(str(root), "events.jsonl")
    with open(source, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(event) + "\n" for event in events)
    code, _out, err = run_cli(root, "metrics", "ingest", source)
    assert code == 0, err
    os.unlink(source)


@pytest.fixture
def project(tmp_path):
    """A project folder with devkit.json and a store holding two operations."""
    write_json(tmp_path / "devkit.json", {"project": {"name": "adv"}})
    ingest_events(
        tmp_path,
        [
            {"operation": "chat", "duration_ms": 12.5, "status": "ok"},
            {"operation": "embed", "duration_ms": 3.0, "status": "error"},
        ],
    )
    assert (tmp_path / ".devkit" / "devkit.db").exists()
    return tmp_path


def identity(path):
    """``(file type, inode number)`` of ``path`` itself (not following a link)."""
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), info.st_ino


@contextlib.contextmanager
def held_write_lock(db_path):
    """Another process holds the store's write lock (``BEGIN IMMEDIATE``) until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture
def short_dir():
    """A short temp folder (a UNIX socket path must stay under ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="dk-") as folder:
        yield folder


def make_char_device(path, major, minor):
    """mknod a character device (like /dev/null 1,3 or /dev/full 1,7) at ``path``; skip without privilege."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except (PermissionError, AttributeError):
        pytest.skip("mknod of a character device needs root")
    return path


def assert_one_error(err, *fragments):
    """stderr is exactly one ``devkit: error:`` line holding every fragment, and no traceback."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("devkit: error: "), err
    assert "Traceback" not in err and "unexpected" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def assert_terminal_safe(text):
    """No raw ESC, CR, BEL or other C0/C1 control in ``text`` except the newlines between lines."""
    bad = [c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert not bad, (bad, text)
    assert not any(line.startswith("line2") for line in text.splitlines()), text

"""Issue 15 item 1: no command replaces a device, FIFO, socket, directory or the store's own files.

Every case checks the target's file type and inode number before and after. Devices are
made with mknod in a temp folder, never a real /dev node.
"""

import os
import socket
import sqlite3
import stat
import time

import pytest

from devkit.errors import OperationError
from devkit.util.fs import atomic_write, remove_stale_temporaries
from tests.adversarial.conftest import assert_one_error, identity, make_char_device, run_cli


def _export_to(root, target, fmt="prom"):
    return run_cli(root, "metrics", "export", "--format", fmt, "-o", str(target))


def _init_over(root, target):
    return run_cli(root, "config", "init", "--force", str(target))


WRITERS = {"export": _export_to, "init": _init_over}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_fifo_is_never_replaced(project, writer):
    fifo = project / "out.fifo"
    os.mkfifo(fifo)
    before = identity(fifo)
    code, _out, err = WRITERS[writer](project, fifo)
    assert code == 1
    assert_one_error(err, "a FIFO, not a regular file")
    assert identity(fifo) == before and stat.S_ISFIFO(before[0])


@pytest.mark.parametrize("device", [(1, 3), (1, 7)], ids=["like-dev-null", "like-dev-full"])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_character_device_is_never_replaced(project, writer, device):
    node = make_char_device(str(project / "dev-node"), *device)
    before = identity(node)
    code, _out, err = WRITERS[writer](project, node)
    assert code == 1
    assert_one_error(err, "a character device")
    assert identity(node) == before and stat.S_ISCHR(before[0])


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_socket_is_never_replaced(project, short_dir, writer):
    path = os.path.join(short_dir, "s.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        before = identity(path)
        code, _out, err = WRITERS[writer](project, path)
    finally:
        listener.close()
    assert code == 1
    assert_one_error(err, "a socket")
    assert identity(path) == before


def test_a_directory_is_never_replaced_by_config_init(project):
    folder = project / "folder"
    folder.mkdir()
    before = identity(folder)
    code, _out, err = _init_over(project, folder)
    assert code == 1
    assert_one_error(err, "a directory")
    assert identity(folder) == before


@pytest.mark.parametrize("name", ["devkit.db", "devkit.db-wal", "devkit.db-shm", "notes.json"])
def test_the_store_and_its_state_dir_are_never_written(project, name):
    state = project / ".devkit"
    target = state / name
    before = identity(target) if target.exists() else None
    code, _out, err = _export_to(project, target, "json")
    assert code == 1
    assert_one_error(err, "refusing to write")
    assert (identity(target) if target.exists() else None) == before
    connection = sqlite3.connect(str(state / "devkit.db"))
    try:
        assert connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        connection.close()
    code, out, err = run_cli(project, "--json", "status")
    assert code == 0, err
    assert '"requests": 2' in out


def test_a_copy_of_a_sqlite_database_elsewhere_is_not_replaced(project):
    copy = project / "elsewhere.sqlite"
    copy.write_bytes((project / ".devkit" / "devkit.db").read_bytes())
    before = identity(copy)
    with pytest.raises(OperationError, match="an SQLite database"):
        atomic_write(copy, "{}")
    assert identity(copy) == before


def test_a_regular_file_is_still_replaced_atomically(project):
    target = project / "report.prom"
    target.write_text("old")
    code, _out, err = _export_to(project, target)
    assert code == 0, err
    assert "devkit_operations_total" in target.read_text()


def test_stale_temporaries_of_our_naming_are_cleared_by_the_next_write(project):
    folder = project / "exports"
    folder.mkdir()
    stale, fresh, other = folder / ".tmp-k9x2ab_c", folder / ".tmp-freshnow", folder / ".tmp-not-ours.txt"
    for path in (stale, fresh, other):
        path.write_bytes(b"x" * 1000)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    code, _out, err = run_cli(
        project, "metrics", "export", "--every", "1s", "--count", "1", "-o", str(folder)
    )
    assert code == 0, err
    assert not stale.exists()
    assert fresh.exists() and other.exists()
    assert len([n for n in os.listdir(folder) if n.startswith("devkit-export-")]) == 1


def test_stale_temporaries_are_only_regular_files(tmp_path):
    fifo = tmp_path / ".tmp-abcdefgh"
    os.mkfifo(fifo)
    old = time.time() - 2 * 3600
    os.utime(fifo, (old, old))
    assert remove_stale_temporaries(str(tmp_path)) == []
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symbolic_link_is_replaced_itself_never_its_target(project):
    fifo = project / "target.fifo"
    os.mkfifo(fifo)
    link = project / "link.prom"
    os.symlink(fifo, link)
    before = identity(fifo)
    code, _out, err = _export_to(project, link)
    assert code == 0, err
    assert identity(fifo) == before
    assert stat.S_ISREG(os.lstat(link).st_mode) and "devkit_operations_total" in link.read_text()

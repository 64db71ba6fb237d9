"""Restore gives back the identical tree; GNU tar reads every backup; the target is protected."""

import os
import shutil
import stat
import subprocess

import pytest

from devkit.errors import OperationError
from devkit.maintenance.restore import TargetNotEmpty, restore_backup
from devkit.maintenance.safety import ArchiveRefused
from tests.integration._backup_helpers import backup, make_tree


def snapshot(root, mtime_ns=True):
    """{relative path: (kind, mode, mtime, content or link target)} of a whole tree."""
    tree = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            mtime = st.st_mtime_ns if mtime_ns else int(st.st_mtime)
            if stat.S_ISLNK(st.st_mode):
                tree[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                tree[rel] = ("dir", stat.S_IMODE(st.st_mode), mtime)
            else:
                with open(path, "rb") as handle:
                    tree[rel] = ("file", stat.S_IMODE(st.st_mode), mtime, handle.read())
    return tree


@pytest.fixture
def made(tmp_path):
    data = make_tree(str(tmp_path))
    os.chmod(os.path.join(data, "runs"), 0o750)
    os.utime(os.path.join(data, "runs"), ns=(1_600_000_000_987_654_321,) * 2)
    return tmp_path, data, backup(str(tmp_path), str(tmp_path / "backups"))


def test_restore_gives_the_identical_tree(made):
    tmp_path, data, result = made
    summary = restore_backup(result["path"], str(tmp_path / "back"), str(tmp_path / "state"))
    assert summary["written"] == 12
    assert snapshot(str(tmp_path / "back" / "data")) == snapshot(data)
    assert [n for n in os.listdir(str(tmp_path / "back"))] == ["data"]


@pytest.mark.skipif(shutil.which("tar") is None, reason="GNU tar not installed")
def test_gnu_tar_lists_and_extracts_the_identical_tree(made):
    tmp_path, data, result = made
    listed = subprocess.run(
        ["tar", "-tzf", result["path"]], capture_output=True, text=True, check=True
    ).stdout
    assert sorted(n.rstrip("/") for n in listed.split()) == sorted(
        ["MANIFEST.json", "data"] + ["data/" + p for p in snapshot(data)]
    )
    out = tmp_path / "tar"
    out.mkdir()
    subprocess.run(["tar", "-xzf", result["path"], "-C", str(out)], check=True)
    # GNU tar sets whole seconds (as for its own archives); devkit restore sets nanoseconds.
    assert snapshot(str(out / "data"), mtime_ns=False) == snapshot(data, mtime_ns=False)


def test_dry_run_writes_nothing_and_only_picks_a_subtree(made):
    tmp_path, _data, result = made
    plan = restore_backup(result["path"], str(tmp_path / "t"), str(tmp_path / "state"), dry_run=True)
    assert not os.path.exists(str(tmp_path / "t")) and plan["files"] == 12
    restore_backup(result["path"], str(tmp_path / "t"), str(tmp_path / "state"), only=["data/runs/deep"])
    assert sorted(snapshot(str(tmp_path / "t"))) == ["data", "data/runs", "data/runs/deep"] + [
        f"data/runs/deep/r{i:03d}.json" for i in range(0, 12, 2)
    ]


def test_a_non_empty_target_needs_force_and_the_plan_lists_changes(made):
    tmp_path, data, result = made
    target = tmp_path / "t"
    restore_backup(result["path"], str(target), str(tmp_path / "state"))
    (target / "data" / "runs" / "r003.json").write_text("edited")
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(TargetNotEmpty) as caught:
        restore_backup(result["path"], str(target), str(tmp_path / "state"))
    assert [c for c in caught.value.changes if c["action"] != "unchanged"] == [
        {"path": "data/runs/r003.json", "action": "replace"},
    ]
    assert (target / "data" / "runs" / "r003.json").read_text() == "edited"
    restore_backup(result["path"], str(target), str(tmp_path / "state"), force=True)
    assert snapshot(str(target / "data")) == snapshot(data)
    assert (target / "mine.txt").read_text() == "keep me"
    assert sorted(os.listdir(str(target))) == ["data", "mine.txt"]


def test_restore_never_writes_through_a_symlink_in_the_target(made):
    tmp_path, _data, result = made
    target, elsewhere = tmp_path / "t", tmp_path / "elsewhere"
    target.mkdir()
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(target / "data"))
    with pytest.raises(OperationError) as caught:
        restore_backup(result["path"], str(target), str(tmp_path / "state"), force=True)
    assert "t: data: is a symlink in the target; restore does not write through it" in str(caught.value)
    assert os.listdir(str(elsewhere)) == []


def test_a_truncated_archive_is_refused_before_anything_is_written(made):
    tmp_path, _data, result = made
    with open(result["path"], "r+b") as handle:
        handle.truncate(os.path.getsize(result["path"]) - 3)
    with pytest.raises(ArchiveRefused) as caught:
        restore_backup(result["path"], str(tmp_path / "t"), str(tmp_path / "state"))
    assert str(caught.value) == f"{result['name']}: the gzip stream ends early (truncated archive)"
    assert not os.path.exists(str(tmp_path / "t"))


def test_a_new_target_reads_the_archive_once_an_occupied_one_twice(made, monkeypatch):
    from devkit.maintenance import archive, extract, onepass, verify

    opened = []

    class Counting(archive.GzipReader):
        def __init__(self, path, threaded=False):
            opened.append(path)
            super().__init__(path, threaded)

    for module in (onepass, extract, verify):
        monkeypatch.setattr(module, "GzipReader", Counting)
    tmp_path, data, result = made
    restore_backup(result["path"], str(tmp_path / "back"), str(tmp_path / "state"))
    assert len(opened) == 1 and snapshot(str(tmp_path / "back" / "data")) == snapshot(data)
    restore_backup(result["path"], str(tmp_path / "back"), str(tmp_path / "state"), force=True)
    assert len(opened) == 3 and snapshot(str(tmp_path / "back" / "data")) == snapshot(data)


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGXFSZ"), reason="no file size limit signal")
def test_a_restore_that_cannot_write_a_file_whole_fails_and_leaves_no_tree(tmp_path):
    import sys
    import textwrap

    from tests.conftest import REPO_ROOT, clean_env

    data = tmp_path / "data"
    data.mkdir()
    (data / "big.bin").write_bytes(os.urandom(6000))
    result = backup(str(tmp_path), str(tmp_path / "backups"))
    target = tmp_path / "back"
    # A file size limit makes write() take only part of a chunk, as a disk filling up can.
    code = textwrap.dedent(f"""
        import resource, runpy, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
        sys.argv = ["devkit", "restore", {result["path"]!r}, "--target", {str(target)!r}]
        try:
            runpy.run_module("devkit", run_name="__main__")
        finally:  # a coverage run saves its data at exit: the limit is for the restore alone
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(tmp_path),
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"devkit: error: cannot restore into {target}: data/big.bin: File too large\n"
    assert not target.exists()

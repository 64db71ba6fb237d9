"""devkit cleanup on real trees: plans change nothing, --apply removes exactly the plan, links and roots are safe."""

import gzip
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

DAY = 86400


def _age(path, days):
    when = time.time() - days * DAY
    os.utime(path, (when, when), follow_symlinks=False)


def _age_tree(top, days):
    for folder, dirs, files in os.walk(top, topdown=False):
        for name in files + dirs:
            _age(os.path.join(folder, name), days)
    _age(top, days)


def _snapshot(top):
    """Every path under ``top`` (links not followed) with its type, mode, mtime and content or target."""
    seen = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                body = "link:" + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as handle:
                    body = hashlib.sha256(handle.read()).hexdigest()
            else:
                body = "dir"
            seen[os.path.relpath(path, top)] = (
                stat.S_IFMT(st.st_mode),
                stat.S_IMODE(st.st_mode),
                st.st_mtime_ns,
                body,
            )
    return seen


def _write(path, text="x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


CONFIG = {
    "project": {"data_dirs": ["data"], "state_dir": "data/.devkit"},
    "experiments": {"path": "data/experiments"},
    "backup": {"dir": "data/backups"},
    "cleanup": {"archive_dir": "archive"},
}


@pytest.fixture
def tree(tmp_path):
    """A project whose data holds old and fresh experiments, links out and in loops, temp files and a log."""
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    _write(str(outside / "important.txt"), "keep me")
    _write(str(outside / "precious.tmp"), "keep me too")
    exp = root / "data" / "experiments"
    _write(str(exp / "old1" / "result.json"), '{"score": 1}')
    _write(str(exp / "old1" / "deep" / "locked.bin"), "stuck")
    os.symlink(str(outside), str(exp / "old1" / "to_outside"))
    os.symlink(".", str(exp / "old1" / "loop"))
    _write(str(exp / "kept" / "result.json"))
    _write(str(exp / "kept" / ".keep"), "")
    _write(str(exp / "fresh" / "result.json"))
    os.symlink(str(outside), str(exp / "link_experiment"))
    _write(str(root / "data" / "scratch.tmp"))
    os.symlink(str(outside / "precious.tmp"), str(root / "data" / "pointer.tmp"))
    os.symlink(str(root / "data"), str(root / "data" / "loopdir"))
    _write(str(root / "data" / "pkg" / "__pycache__" / "m.cpython-311.pyc"))
    _write(str(root / "data" / "logs" / "app.log"), "line\n" * 100)
    _write(str(root / "data" / ".devkit" / "old.tmp"))
    _write(str(root / "data" / "backups" / "old.tmp"))
    _write(str(root / "data" / "guarded" / ".keep"), "")
    _write(str(root / "data" / "guarded" / "x.tmp"))
    (root / "devkit.json").write_text(json.dumps(CONFIG))
    data = root / "data"
    for name in (
        "experiments/old1",
        "experiments/kept",
        "experiments/link_experiment",
        "scratch.tmp",
        "pointer.tmp",
        "pkg",
        "logs",
        ".devkit",
        "backups",
        "guarded",
    ):
        _age_tree(str(data / name), 60)
    _age(str(data / "loopdir"), 60)
    return root, outside


def _plan(cli, root, *extra):
    done = cli("--json", "cleanup", "--age-by", "mtime", *extra, cwd=root)
    assert done.code in (0, 1), done
    return done, json.loads(done.out)


def test_dry_run_changes_nothing_and_lists_exactly_the_old_items(cli, tree):
    root, outside = tree
    before = _snapshot(str(root.parent))
    done, plan = _plan(cli, root)
    assert _snapshot(str(root.parent)) == before
    listed = {os.path.relpath(e["path"], str(root)): e["action"] for e in plan["entries"]}
    assert listed == {
        "data/experiments/old1": "delete",
        "data/experiments/link_experiment": "delete",
        "data/scratch.tmp": "delete",
        "data/pointer.tmp": "delete",
        "data/pkg/__pycache__": "delete",
        "data/logs/app.log": "archive",
    }
    skipped = {os.path.relpath(s["path"], str(root)) for s in plan["skipped"]}
    assert skipped == {"data/experiments/kept", "data/guarded"}
    assert plan["applied"] is False and plan["total_bytes"] == sum(e["size_bytes"] for e in plan["entries"])


def test_apply_removes_exactly_the_plan_and_reports_what_it_cannot_delete(cli, tree, monkeypatch):
    root, outside = tree
    _done, plan = _plan(cli, root)
    before = _snapshot(str(root.parent))
    outside_before = _snapshot(str(outside))
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if str(path).endswith("locked.bin"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    done = cli("cleanup", "--age-by", "mtime", "--apply", cwd=root)
    assert done.code == 1, done
    after = _snapshot(str(root.parent))
    gone = set(before) - set(after)
    planned = [os.path.relpath(e["path"], str(root.parent)) for e in plan["entries"]]
    under_plan = {p for p in before if any(p == q or p.startswith(q + os.sep) for q in planned)}
    stuck = {
        "project/data/experiments/old1",
        "project/data/experiments/old1/deep",
        "project/data/experiments/old1/deep/locked.bin",
    }
    assert gone == under_plan - stuck
    assert _snapshot(str(outside)) == outside_before
    locked = str(root / "data" / "experiments" / "old1" / "deep" / "locked.bin")
    assert [line for line in done.out.splitlines() if line.startswith("could not")] == [
        f"could not remove {locked}: Permission denied"
    ]
    assert "done: 4 removed, 1 archived, 1 failed" in done.out


def test_logs_are_gzipped_into_the_archive_before_the_original_goes(cli, tree):
    root, _outside = tree
    original = (root / "data" / "logs" / "app.log").read_bytes()
    done, applied = _plan(cli, root, "--apply")
    assert done.code == 0, done
    archived = applied["result"]["archived"]
    assert [a["archive"] for a in archived] == [str(root / "archive" / "data" / "logs" / "app.log.gz")]
    with gzip.open(archived[0]["archive"], "rb") as handle:
        assert handle.read() == original
    assert not (root / "data" / "logs" / "app.log").exists()


def test_a_log_that_cannot_be_archived_stays(cli, tree):
    root, _outside = tree
    (root / "archive").write_text("a file where the archive folder should be")
    done, applied = _plan(cli, root, "--apply")
    assert done.code == 1
    assert (root / "data" / "logs" / "app.log").exists()
    assert [f["path"] for f in applied["result"]["failed"]] == [str(root / "data" / "logs" / "app.log")]


def test_data_restored_from_an_old_backup_is_not_removed(cli, tmp_path):
    """A real `devkit backup create` and `devkit restore`: tar keeps the old mtimes, the ctimes are fresh."""
    exp = tmp_path / "data" / "experiments"
    for name in ("run1", "run2"):
        _write(str(exp / name / "result.json"), '{"ok": true}')
        _age_tree(str(exp / name), 90)
    (tmp_path / "devkit.json").write_text(
        json.dumps({"project": {"data_dirs": ["data"]}, "experiments": {"path": "data/experiments"}})
    )
    made = json.loads(cli("--json", "backup", "create", cwd=tmp_path).out)
    for name in ("run1", "run2"):
        shutil.rmtree(str(exp / name))
    restored = cli("restore", made["name"], "--target", ".", "--force", cwd=tmp_path)
    assert restored.code == 0, restored
    assert os.stat(str(exp / "run1" / "result.json")).st_mtime < time.time() - 89 * DAY
    done = cli("cleanup", "--older-than", "1d", "--apply", cwd=tmp_path)
    assert done.code == 0, done
    assert done.out.startswith("nothing to clean up\n")
    assert sorted(os.listdir(str(exp))) == ["run1", "run2"]
    by_mtime = json.loads(
        cli("--json", "cleanup", "--older-than", "1d", "--age-by", "mtime", cwd=tmp_path).out
    )
    assert sorted(os.path.basename(e["path"]) for e in by_mtime["entries"]) == ["run1", "run2"]


@pytest.mark.parametrize(
    "roots", [["/"], [""], ["~"], ["data/.devkit"]], ids=["slash", "empty", "home", "state"]
)
def test_dangerous_roots_are_refused(cli, tmp_path, monkeypatch, roots):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    config = {"project": {"state_dir": "data/.devkit"}, "cleanup": {"roots": roots}}
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    done = cli("cleanup", cwd=tmp_path)
    assert done.code == 2, done
    assert (
        done.err.startswith("devkit: error: cleanup.roots: ")
        and "refused" in done.err
        or "never touches" in done.err
    )


def test_plan_screen_is_a_table_with_a_total(cli, tmp_path):
    _write(str(tmp_path / "data" / "a.tmp"), "12345")
    _age(str(tmp_path / "data" / "a.tmp"), 2)
    (tmp_path / "devkit.json").write_text(json.dumps({"project": {"data_dirs": ["data"]}}))
    done = cli("cleanup", "--age-by", "mtime", cwd=tmp_path)
    path = str(tmp_path / "data" / "a.tmp")
    assert done.out.splitlines() == [
        "action  path" + " " * (len(path) - 4) + "  size   age  reason",
        f"delete  {path}   5 B  2.0d  temporary (matches cleanup.patterns)",
        "note: experiments.path is not a folder; no experiments to clean",
        "1 item, 5 B to reclaim",
        "dry run: nothing was changed; rerun with --apply to do it",
    ]
    assert (tmp_path / "data" / "a.tmp").exists()


@pytest.mark.skipif(not hasattr(os, "setuid") or os.geteuid() != 0, reason="needs root to drop to nobody")
def test_as_an_unprivileged_user_undeletable_files_are_reported_and_the_rest_goes(tmp_path):
    """Real permissions: cleanup runs as nobody; one old experiment sits in a folder only root may change."""
    import tempfile

    from tests.conftest import REPO_ROOT, clean_env

    python = _python_for_nobody()
    if python is None:
        pytest.skip("no Python that the nobody user may run")
    base = tempfile.mkdtemp(prefix="devkit-cleanup-nobody-")
    try:
        os.chmod(base, 0o777)
        exp = os.path.join(base, "experiments")
        for name in ("free", "held"):
            _write(os.path.join(exp, name, "sub", "result.json"))
        with open(os.path.join(base, "devkit.json"), "w") as handle:
            json.dump({"experiments": {"path": "experiments"}, "project": {"state_dir": "state"}}, handle)
        os.makedirs(os.path.join(base, "state"))
        for folder, dirs, _files in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o777)
        os.chmod(os.path.join(exp, "held", "sub"), 0o755)
        _age_tree(exp, 60)
        env = clean_env({"PYTHONPATH": REPO_ROOT, "HOME": base + "/nohome"})
        proc = subprocess.run(
            [python, "-m", "devkit", "cleanup", "--age-by", "mtime", "--apply"],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_become_nobody,
        )
        held = os.path.join(exp, "held", "sub", "result.json")
        assert proc.returncode == 1, proc.stderr
        assert f"could not remove {held}: Permission denied" in proc.stdout.splitlines()
        assert sorted(os.listdir(exp)) == ["held"] and os.path.exists(held)
    finally:
        shutil.rmtree(base)


def _become_nobody():
    os.setgid(65534)
    os.setuid(65534)


def _python_for_nobody():
    for candidate in (sys.executable, "/usr/bin/python3"):
        try:
            ran = subprocess.run(
                [candidate, "-c", "import sqlite3"],
                preexec_fn=_become_nobody,
                capture_output=True,
                timeout=30,
            )
        except OSError:
            continue
        if ran.returncode == 0:
            return candidate
    return None


def test_apply_waits_for_no_one_when_the_storage_lock_is_held(cli, tmp_path):
    from devkit.util.lock import storage_lock

    _write(str(tmp_path / "data" / "a.tmp"))
    _age(str(tmp_path / "data" / "a.tmp"), 2)
    (tmp_path / "devkit.json").write_text(json.dumps({"project": {"data_dirs": ["data"]}}))
    with storage_lock(str(tmp_path / ".devkit"), "backup"):
        done = cli("cleanup", "--age-by", "mtime", "--apply", cwd=tmp_path)
    assert done.code == 3, done
    assert "busy" in done.err and "devkit backup" in done.err
    assert (tmp_path / "data" / "a.tmp").exists()

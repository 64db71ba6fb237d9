"""The storage lock: a second holder is refused with a line naming the first; kill -9 frees it."""

import os
import signal
import subprocess
import sys
import time

import pytest

from devkit.errors import LockBusyError
from devkit.util.lock import storage_lock
from devkit.util.names import keep_newest, timestamped_name
from tests.conftest import REPO_ROOT

_HOLD = "from devkit.util.lock import storage_lock\nimport sys, time\nwith storage_lock(sys.argv[1], 'backup'):\n    print('held', flush=True)\n    time.sleep(60)\n"


def _holder(state_dir):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(state_dir)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_is_refused_and_named(tmp_path):
    proc = _holder(tmp_path)
    try:
        with pytest.raises(LockBusyError) as info:
            with storage_lock(str(tmp_path), "cleanup"):
                pass
        assert f"devkit backup (pid {proc.pid})" in str(info.value)
        assert info.value.exit_code == 3
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_of_the_holder_frees_the_lock(tmp_path):
    proc = _holder(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with storage_lock(str(tmp_path), "cleanup") as path:
        with open(path) as handle:
            assert handle.read().split() == [str(os.getpid()), "cleanup"]


def test_lock_is_reentrant_across_sequential_runs(tmp_path):
    for purpose in ("backup", "prune"):
        with storage_lock(str(tmp_path / "state"), purpose):
            pass
    assert (tmp_path / "state" / "maintenance.lock").is_file()


def test_timestamped_names_sort_and_keep_newest_prunes_only_its_own(tmp_path):
    base = time.time()
    names = [timestamped_name(base + i * 0.5, ".tar.gz", "proj-") for i in range(5)]
    assert names == sorted(names)
    for name in names + ["other.tar.gz", "proj-notes.txt"]:
        (tmp_path / name).write_text("x")
    removed = keep_newest(str(tmp_path), "proj-", ".tar.gz", 2)
    assert sorted(os.path.basename(p) for p in removed) == names[:3]
    assert sorted(os.listdir(tmp_path)) == sorted(names[3:] + ["other.tar.gz", "proj-notes.txt"])

"""Permission-denied paths of the config file and a storage folder, run even when the suite runs as root.

As root, the CLI runs in a subprocess that imports what it needs and then drops
to the unprivileged user ``nobody`` (uid 65534) before reading anything, so the
file modes are really enforced; as any other user the modes apply as they are.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.conftest import REPO_ROOT, clean_env

NOBODY = 65534
DROP_AND_RUN = """
import os, sys
sys.path.insert(0, {repo!r})
# Everything a run imports lazily is imported now: nobody cannot read this interpreter's private stdlib.
import json, sqlite3, uuid, shutil, socket, traceback, urllib.request, concurrent.futures
import argparse, gettext, locale, glob, fnmatch, hashlib, hmac, pkgutil, platform, stat, tempfile, unicodedata
import encodings.idna, encodings.utf_8_sig
import devkit.cli, devkit.config, devkit.store, devkit.health, devkit.health.storage, devkit.health.system
import devkit.health.models, devkit.health.render, devkit.commands.config_cmd, devkit.commands.health
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid({uid})
    os.setuid({uid})
sys.exit(devkit.cli.main(sys.argv[1:]))
"""

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def project():
    """A folder every user may enter (unlike pytest's tmp_path, which is private to its owner)."""
    path = tempfile.mkdtemp(prefix="devkit-perm-")
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for directory, dirs, _ in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(directory, name), 0o755)
        shutil.rmtree(path)


def run_unprivileged(project, *argv):
    """``devkit argv`` in ``project`` as a user the file modes apply to; (exit code, stdout, stderr)."""
    code = DROP_AND_RUN.format(repo=REPO_ROOT, uid=NOBODY)
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=project,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_unreadable_config_file_is_one_error_line(project):
    path = os.path.join(project, "devkit.json")
    with open(path, "w") as handle:
        handle.write("{}")
    os.chmod(path, 0)
    code, out, err = run_unprivileged(project, "config", "show")
    assert (code, out) == (2, "")
    assert err == "devkit: error: devkit.json: cannot read config file: permission denied\n"


def test_read_only_storage_folder_fails_its_check_in_words(project):
    with open(os.path.join(project, "devkit.json"), "w") as handle:
        handle.write('{"storage": {"paths": ["data"], "min_free_mb": 0}}')
    os.chmod(os.path.join(project, "devkit.json"), 0o644)
    data = os.path.join(project, "data")
    os.mkdir(data)
    os.chmod(data, 0o555)
    code, out, err = run_unprivileged(project, "health", "--check", "storage.data", "--format", "nagios")
    assert code == 2, (out, err)
    assert out.startswith(
        f"DEVKIT HEALTH CRITICAL - 1 failed of 1: storage.data: not writable: {data}: Permission denied"
    )
    assert err == ""

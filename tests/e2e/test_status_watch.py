"""`devkit status --watch`: redraws in place on a real pseudo-terminal, repeats plain blocks into a pipe,
and stops with exit 0 on Ctrl-C (SIGINT) or SIGTERM."""

import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

from devkit.core.records import Batch
from devkit.store import Store
from tests.conftest import REPO_ROOT, clean_env
from tests.integration._store_helpers import record, write_config

DEADLINE_S = 60


@pytest.fixture
def project(tmp_path):
    """A project with a few operations in its store."""
    write_config(tmp_path)
    now = time.time()
    with Store(tmp_path / ".devkit" / "devkit.db") as store:
        store.write_batch(Batch([record(i, now - 30 + i) for i in range(3)]))
    return tmp_path


def _start(project, stdout, *extra):
    env = clean_env({"PYTHONPATH": REPO_ROOT, "COLUMNS": "80", "NO_COLOR": "1"})
    return subprocess.Popen(
        [sys.executable, "-m", "devkit", "status", "--watch", "0.5", *extra],
        cwd=str(project),
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def _read_until(fd, done):
    """Read ``fd`` until ``done(text)`` holds or the deadline passes; return the text read."""
    text, deadline = b"", time.monotonic() + DEADLINE_S
    while not done(text.decode("utf-8", "replace")) and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.5)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
    return text.decode("utf-8", "replace")


def _stop(proc, signum, fd):
    proc.send_signal(signum)
    rest = _read_until(fd, lambda text: False) if proc.poll() is None else ""
    code = proc.wait(timeout=DEADLINE_S)
    return code, rest, proc.stderr.read().decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_watch_redraws_in_place_on_a_terminal_and_exits_0_on_a_signal(project, signum):
    master, slave = os.openpty()
    proc = _start(project, slave)
    os.close(slave)
    try:
        text = _read_until(master, lambda t: t.count("devkit status") >= 3)
        code, _, err = _stop(proc, signum, master)
    finally:
        os.close(master)
    assert text.count("devkit status") >= 3, text
    screens = text.split("\x1b[H")[1:]
    assert len(screens) >= 3 and all(s.startswith("devkit status") for s in screens[:3])
    assert all(line.endswith("\x1b[K") for line in screens[0].split("\r\n")[:-1])
    assert screens[0].rstrip("\r\n").endswith("\x1b[J") or screens[0].split("\r\n")[-1] == "\x1b[J"
    assert (code, err) == (0, "")


def test_watch_into_a_pipe_repeats_plain_blocks(project):
    read_fd, write_fd = os.pipe()
    proc = _start(project, write_fd)
    os.close(write_fd)
    try:
        text = _read_until(read_fd, lambda t: t.count("devkit status") >= 2)
        code, rest, err = _stop(proc, signal.SIGTERM, read_fd)
    finally:
        os.close(read_fd)
    text += rest
    assert "\x1b" not in text and (code, err) == (0, "")
    blocks = re.split(r"\n\n(?=devkit status)", text)
    assert len(blocks) >= 2 and all(block.startswith("devkit status") for block in blocks)
    assert blocks[0].split("\n")[2:5] == blocks[1].split("\n")[2:5]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--watch", "0.1"], "devkit: error: --watch: expected 0.5 to 3600 seconds, got '0.1'\n"),
        (["--watch", "2h"], "devkit: error: --watch: expected 0.5 to 3600 seconds, got '2h'\n"),
        (
            ["--watch", "soon"],
            "devkit: error: --watch: expected a duration like 30s, 5m, 1h or 7d, got 'soon'\n",
        ),
        (
            ["--watch", "--json"],
            "devkit: error: --watch: not with --json (run status --json on a schedule instead)\n",
        ),
    ],
)
def test_bad_watch_arguments_are_one_error_line(cli, project, argv, message):
    result = cli("status", *argv)
    assert (result.code, result.out, result.err) == (2, "", message)

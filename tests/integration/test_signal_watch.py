"""A termination signal whose handler CPython never ran (the main thread already blocked in C) is re-sent."""

import json
import signal
import subprocess
import sys
import textwrap

import pytest

from devkit.store import Store
from tests.conftest import REPO_ROOT, clean_env

# The signal goes to another thread: CPython trips its handler flag there, and the main thread, blocked
# in a semaphore wait like a Pool worker at terminate(), is never woken by it.
APP = """
    import multiprocessing, signal, threading, time, devkit
    for i in range(1000):
        with devkit.track("blocked"):
            pass
    def trip():
        time.sleep(0.5)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
    threading.Thread(target=trip).start()
    lock = multiprocessing.Lock()
    lock.acquire()
    lock.acquire()
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads only")
def test_a_signal_tripped_while_the_main_thread_is_blocked_in_c_still_flushes_and_ends_it(tmp_path):
    (tmp_path / "devkit.json").write_text(json.dumps({"metrics": {"flush_interval_s": 60}}))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP)],
        cwd=str(tmp_path),
        timeout=30,
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    with Store(tmp_path / ".devkit" / "devkit.db") as store:
        assert store.totals()["requests"] == 1000


# The app's own handler takes one SIGTERM and puts ours back right away: nothing may run again later.
APP_HANDLES_ONE = """
    import os, signal, time, devkit
    with devkit.track("before"):
        pass
    ours = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda s, f: print("app handler", flush=True))
    os.kill(os.getpid(), signal.SIGTERM)
    signal.signal(signal.SIGTERM, ours)
    time.sleep(1.0)
    print("still running", flush=True)
"""


def test_a_signal_the_apps_handler_took_is_not_handled_again(tmp_path):
    (tmp_path / "devkit.json").write_text(json.dumps({"metrics": {"flush_interval_s": 60}}))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(APP_HANDLES_ONE)],
        cwd=str(tmp_path),
        timeout=30,
        env=clean_env({"PYTHONPATH": REPO_ROOT}),
        capture_output=True,
        text=True,
    )
    assert (proc.returncode, proc.stdout) == (0, "app handler\nstill running\n"), proc.stderr

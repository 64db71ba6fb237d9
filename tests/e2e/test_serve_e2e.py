"""``devkit serve`` as a real process: SIGTERM under 64-client load, and the demo from a fresh clone."""

import http.client
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import REPO_ROOT, clean_env
from tests.integration._store_helpers import write_config

CLIENTS = 64
LOAD_S = 1.0
_URL = re.compile(r"dashboard at http://127\.0\.0\.1:(\d+)/")


def start_serve(args, cwd, root=REPO_ROOT, timeout_s=15.0, env=None):
    """Start ``python -m devkit serve ARGS`` and return (process, port) once it says where it listens."""
    env = clean_env(dict(env or {}, PYTHONPATH=root))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devkit", "serve", "--port", "0", *args],
        cwd=str(cwd),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        if selector.select(timeout_s):
            match = _URL.search(proc.stderr.readline())
            if match:
                return proc, int(match.group(1))
    proc.kill()
    raise AssertionError(f"devkit serve did not start: {proc.communicate()}")


class Client(threading.Thread):
    """Loops over /metrics, /api/metrics, /health/ready and POST /api/events on one keep-alive connection."""

    def __init__(self, index, port, stop):
        super().__init__(daemon=True)
        self.index, self.port, self.stop = index, port, stop
        self.accepted, self.errors_before_stop, self.broken, self.requests = [], [], [], 0

    def run(self):
        conn, n = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10), 0
        while True:
            n += 1
            try:
                self._one(conn, n)
            except http.client.IncompleteRead as exc:  # a response cut short is never fine
                self.broken.append(repr(exc))
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if self.stop.is_set():  # after SIGTERM a refused or reset connection is the server leaving
                    return
                self.errors_before_stop.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def _one(self, conn, n):
        event_id = f"c{self.index}-{n}"
        if n % 4 == 0:
            body = json.dumps({"id": event_id, "operation": "load", "duration_ms": 1.5, "status": "ok"})
            conn.request("POST", "/api/events", body, {"Content-Type": "application/json"})
        else:
            conn.request("GET", ("/metrics", "/api/metrics", "/health/ready")[n % 4 - 1])
        response = conn.getresponse()
        body = response.read()
        if response.status not in (200, 202):
            self.broken.append((response.status, body[:200]))
        self.requests += 1
        if response.status == 202 and json.loads(body) == {"accepted": 1, "rejected": 0}:
            self.accepted.append(event_id)


def test_sigterm_under_64_clients_finishes_requests_exits_0_and_loses_nothing(tmp_path):
    config = write_config(tmp_path, project={"name": "load"})
    proc, port = start_serve(["--config", config], tmp_path)
    stop = threading.Event()
    clients = [Client(i, port, stop) for i in range(CLIENTS)]
    try:
        for client in clients:
            client.start()
        time.sleep(LOAD_S)
        signalled = time.monotonic()
        stop.set()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
        exited_after = time.monotonic() - signalled
    finally:
        stop.set()
        proc.kill() if proc.poll() is None else None
        for client in clients:
            client.join(10)
    assert code == 0
    assert proc.stderr.read() == "devkit serve: stopped\n"  # nothing logged per request without -v
    assert exited_after < 2.0
    assert [e for c in clients for e in c.errors_before_stop + c.broken] == []
    accepted = {e for c in clients for e in c.accepted}
    assert sum(c.requests for c in clients) > CLIENTS and accepted
    assert accepted <= _stored_ids(tmp_path)


def _stored_ids(root):
    from devkit.config import load_config
    from devkit.store import read_store

    with read_store(load_config(explicit=os.path.join(str(root), "devkit.json"), env={})) as store:
        return {op["id"] for op in store.iter_operations()}


@pytest.mark.skipif(
    not os.path.isdir(os.path.join(REPO_ROOT, ".git"))
    and not os.path.isfile(os.path.join(REPO_ROOT, ".git")),
    reason="needs a git checkout to clone",
)
def test_demo_from_a_fresh_clone_is_live_within_two_seconds(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", REPO_ROOT, str(clone)], check=True, timeout=60)
    started = time.monotonic()
    proc, port = start_serve(["--demo"], tmp_path, root=str(clone))
    try:
        live_after, page = _wait_live(port, started, deadline_s=10.0)
        assert live_after < 2.0
        assert 'id="kpi-requests"' in page and "devkit-demo" in page
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert "Traceback" not in proc.stderr.read()


def _wait_live(port, started, deadline_s):
    while time.monotonic() - started < deadline_s:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/api/metrics")
            data = json.loads(conn.getresponse().read())
            if data.get("totals", {}).get("requests"):
                conn.request("GET", "/")
                return time.monotonic() - started, conn.getresponse().read().decode("utf-8")
        finally:
            conn.close()
        time.sleep(0.05)
    raise AssertionError("the demo dashboard did not show data")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads CPU time from /proc")
def test_with_no_client_the_server_does_no_work(tmp_path):
    config = write_config(tmp_path, project={"name": "idle"})
    proc, _port = start_serve(["--config", config], tmp_path)
    try:
        time.sleep(0.5)
        before = _cpu_ticks(proc.pid)
        time.sleep(2.0)
        assert _cpu_ticks(proc.pid) - before <= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def test_open_hands_the_dashboard_url_to_the_browser(tmp_path):
    opened = tmp_path / "opened.txt"
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[2], 'w').write(sys.argv[1])\""
    config = write_config(tmp_path, project={"name": "open"})
    proc, port = start_serve(
        ["--config", config, "--open"], tmp_path, env={"BROWSER": f"{browser} %s {opened}"}
    )
    try:
        deadline = time.monotonic() + 10
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == f"http://127.0.0.1:{port}/"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0

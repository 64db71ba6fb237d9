"""A real Prometheus server scrapes devkit's exposition (OpenMetrics by negotiation, and 0.0.4).

Skipped when the ``prometheus`` binary is not installed (Debian: ``apt-get install prometheus``).
"""

import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest

from devkit.export.promtext import PROMETHEUS_CONTENT_TYPE, negotiate, render_openmetrics, render_prometheus
from tests.unit._export_helpers import hostile_snapshot

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _handler(snapshot, accepts):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            accepts.append(self.headers.get("Accept", ""))
            fmt, content_type = negotiate(self.headers.get("Accept"))
            if self.path == "/prom":
                fmt, content_type = "prom", PROMETHEUS_CONTENT_TYPE
            chunks = render_openmetrics(snapshot) if fmt == "openmetrics" else render_prometheus(snapshot)
            body = "".join(chunks).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def exporter():
    accepts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(hostile_snapshot(10, 3), accepts))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], accepts
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def prometheus(tmp_path, exporter):
    port, _ = exporter
    web_port = _free_port()
    jobs = "".join(
        f"  - job_name: {job}\n    metrics_path: {path}\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{port}']\n"
        for job, path in (("om", "/metrics"), ("prom", "/prom"))
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  scrape_interval: 1s\nscrape_configs:\n{jobs}", encoding="utf-8")
    cmd = [
        "prometheus",
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{web_port}",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{web_port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read().decode("utf-8"))
    except OSError:
        return None


def _targets_scraped(base):
    data = _get(base + "/api/v1/targets")
    targets = (data or {}).get("data", {}).get("activeTargets", [])
    done = [
        t
        for t in targets
        if t.get("lastScrape", "").startswith("2") and not t["lastScrape"].startswith("0001")
    ]
    return targets if len(done) == 2 and all(t.get("health") != "unknown" for t in targets) else None


def test_a_real_prometheus_scrapes_both_formats_without_errors(prometheus, exporter):
    deadline = time.monotonic() + 45
    targets = None
    while time.monotonic() < deadline and targets is None:
        time.sleep(0.5)
        targets = _targets_scraped(prometheus)
    assert targets is not None, "prometheus did not scrape in time"
    for target in targets:
        assert target["health"] == "up", target.get("lastError")
        assert target["lastError"] == ""
    assert any("application/openmetrics-text" in a for a in exporter[1])
    for promql, want in (
        ('devkit_operations_total{operation="chat \\"v2\\"",status="ok"}', "3"),
        ('devkit_operations_total{operation="embed\\\\raw",model="ünï\\nmodel"}', "4"),
    ):
        result = _get(f"{prometheus}/api/v1/query?query={urllib.parse.quote(promql)}")["data"]["result"]
        assert {r["metric"]["job"] for r in result} == {"om", "prom"}, promql
        assert all(r["value"][1] == want for r in result), result

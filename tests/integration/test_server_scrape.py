"""A real Prometheus scrapes ``devkit serve``'s /metrics with the bearer token.

Skipped when the ``prometheus`` binary is not installed (Debian: ``apt-get install prometheus``).
"""

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

import devkit
from tests.integration._server_helpers import seeded_config

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed")
TOKEN = "scrape-token-1"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _query(base, promql):
    url = f"{base}/api/v1/query?query={urllib.parse.quote(promql)}"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())["data"]["result"]
    except OSError:
        return []


def test_prometheus_scrapes_the_server_with_its_token(tmp_path):
    cfg = seeded_config(tmp_path, server={"token": TOKEN})
    web = _free_port()
    with devkit.serve_in_thread(cfg, port=0) as running:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: devkit\n"
            f"    authorization:\n      credentials: {TOKEN}\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{running.port}']\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{web}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline, result = time.monotonic() + 45, []
            while time.monotonic() < deadline and not result:
                time.sleep(0.5)
                result = _query(f"http://127.0.0.1:{web}", "sum(devkit_operations_total)")
        finally:
            proc.terminate()
            proc.wait(10)
    assert result and result[0]["value"][1] == "41"

"""The dashboard in a real headless Chromium: what it shows matches the API, Prometheus and ``status --json``.

Skipped only where Chromium is missing (Debian: ``apt-get install chromium``; ``.ci/run`` installs it).
Set DEVKIT_SCREENSHOT=PATH to keep the demo screenshot (docs/dashboard.png comes from here).
"""

import html
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import devkit
from tests.integration._server_helpers import NOW, XSS, get_json, http_request, seeded_config
from tests.unit._promparse import parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium(tmp_path, *args):
    """Run headless Chromium with a throwaway profile; return its stdout."""
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=True).stdout


def _shown(dom, ident):
    return html.unescape(re.search(rf'<dd id="kpi-{ident}">([^<]*)</dd>', dom).group(1))


def _number(text):
    return float(re.sub(r"[^0-9.]", "", text))


def test_the_page_shows_what_the_api_says_and_data_stays_text(tmp_path, run_devkit):
    cfg = seeded_config(tmp_path)
    with devkit.serve_in_thread(cfg, port=0, clock=lambda: NOW) as running:
        dom = chromium(tmp_path, "--virtual-time-budget=2500", "--dump-dom", running.url)
        api = get_json(running.port, "/api/metrics")
        families = parse(http_request(running.port, "GET", "/metrics")[2].decode("utf-8"))
    assert 'data-rendered="js"' in dom and '<span id="live">live</span>' in dom
    totals, latency = api["totals"], api["latency_ms"]
    assert _shown(dom, "requests") == f"{totals['requests']:,}" == "41"
    assert _shown(dom, "errors") == f"{totals['errors']:,}"
    assert _number(_shown(dom, "error-rate")) == pytest.approx(totals["error_rate"] * 100, abs=0.006)
    for name in ("p50", "p95", "p99"):
        assert _number(_shown(dom, name)) == pytest.approx(latency[name], abs=0.06)
    assert _shown(dom, "tokens") == f"{totals['total_tokens']:,}"
    assert _number(_shown(dom, "cost")) == pytest.approx(totals["cost"], abs=0.00006)
    ops = families["devkit_operations_total"].samples
    assert sum(value for _n, _l, value in ops) == totals["requests"]
    assert sum(value for _n, labels, value in ops if labels["status"] == "error") == totals["errors"]
    tokens = families["devkit_tokens_total"].samples
    assert sum(value for _n, _l, value in tokens) == totals["total_tokens"]
    status = json.loads(run_devkit("status", "--json", "--config", cfg.path).out)
    assert status["totals"] == totals and status["latency_ms"] == latency
    assert "<img" not in dom and f"<td>{html.escape(XSS, quote=False)}</td>" in dom


def test_the_demo_dashboard_screenshot(tmp_path):
    with devkit.serve_in_thread(port=0, demo=True) as running:
        deadline = time.monotonic() + 10
        while (
            get_json(running.port, "/api/metrics")["totals"]["requests"] == 0 and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        time.sleep(1.5)
        shot = tmp_path / "dashboard.png"
        chromium(
            tmp_path,
            "--window-size=1100,1250",
            "--virtual-time-budget=2000",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            running.url,
        )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20000
    if os.environ.get("DEVKIT_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["DEVKIT_SCREENSHOT"])


def test_an_open_page_polls_every_few_seconds_and_asks_for_health_now_and_then(tmp_path):
    lines = []
    cfg = seeded_config(tmp_path)
    with devkit.serve_in_thread(cfg, port=0, log=lines.append) as running:
        chromium(tmp_path, "--virtual-time-budget=16500", "--dump-dom", running.url)
    asked = [re.search(r'"GET (\S+) ', line).group(1) for line in lines]
    assert asked.count("/") == 1
    assert 5 <= asked.count("/api/metrics") <= 7  # at load, then every 3 s of the page's 16.5 s
    assert asked.count("/api/metrics") == asked.count("/api/tokens")
    assert asked.count("/api/health") == 2  # at load and 15 s later

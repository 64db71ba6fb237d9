"""What the server's routes answer: the API documents, validation, the token, limits and headers."""

import base64
import io
import json
import os
import re
import tempfile
import time

import pytest

import devkit
from devkit.cli import main
from devkit.context import Context
from tests.conftest import clean_env
from tests.integration._server_helpers import NOW, XSS, get_json, http_request, seeded_config

TOKEN = "tok-123456"


@pytest.fixture
def served(tmp_path):
    cfg = seeded_config(tmp_path)
    running = devkit.serve_in_thread(cfg, port=0, clock=lambda: NOW)
    try:
        yield cfg, running.port
    finally:
        running.stop()


@pytest.fixture
def guarded(tmp_path):
    cfg = seeded_config(tmp_path, server={"token": TOKEN})
    running = devkit.serve_in_thread(cfg, port=0, clock=lambda: NOW)
    try:
        yield cfg, running.port
    finally:
        running.stop()


def test_api_metrics_is_byte_for_byte_devkit_status_json(served, tmp_path):
    cfg, port = served
    status, headers, body = http_request(port, "GET", "/api/metrics")
    out = io.StringIO()
    ctx = Context(stdout=out, stderr=io.StringIO(), env=clean_env(), cwd=str(tmp_path), clock=lambda: NOW)
    assert main(["status", "--json", "--config", cfg.path], ctx) == 0
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    assert body == out.getvalue().encode("utf-8")
    assert json.loads(body)["totals"]["requests"] == 41


def test_events_post_one_or_a_list_and_answer_202_with_counts(served):
    cfg, port = served
    one = {"operation": "posted", "duration_ms": 3.5, "status": "ok", "model": "m1", "prompt_tokens": 4}
    status, _h, body = http_request(port, "POST", "/api/events", body=json.dumps(one))
    assert (status, json.loads(body)) == (202, {"accepted": 1, "rejected": 0})
    status, _h, body = http_request(
        port, "POST", "/api/events", body=json.dumps([one, dict(one, status="error")])
    )
    assert (status, json.loads(body)) == (202, {"accepted": 2, "rejected": 0})
    rows = {r["model"]: r for r in get_json(port, "/api/tokens")["by_model"]}
    assert rows["m1"]["requests"] == 3 and rows["m1"]["prompt_tokens"] == 12


def test_a_bad_event_names_field_and_index_and_nothing_of_the_batch_is_written(served):
    cfg, port = served
    good = {"operation": "posted", "duration_ms": 1, "status": "ok"}
    batch = [good, good, dict(good, status="maybe")]
    status, headers, body = http_request(port, "POST", "/api/events", body=json.dumps(batch))
    answer = json.loads(body)
    assert status == 400 and headers["content-type"].startswith("application/json")
    assert (answer["field"], answer["index"]) == ("status", 2)
    assert answer["error"] == 'event 2: status: expected "ok" or "error", got "maybe"'
    status, _h, body = http_request(port, "POST", "/api/events", body=b'{"operation": "x"')
    assert status == 400 and json.loads(body)["field"] == "json"
    assert get_json(port, "/api/metrics")["totals"]["requests"] == 41


def test_limits_methods_and_unknown_paths_answer_json_errors(served):
    _cfg, port = served
    status, _h, body = http_request(port, "POST", "/api/events", body=b"x" * ((1 << 20) + 1))
    assert status == 413 and "body over" in json.loads(body)["error"]
    status, headers, body = http_request(port, "POST", "/metrics", body=b"")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    status, _h, body = http_request(port, "GET", "/api/nothing")
    assert (status, json.loads(body)) == (404, {"error": "no route /api/nothing"})
    for bad in ("/api/operations?limit=x", "/api/operations?limit=5000", "/api/timeseries?window=1y"):
        status, _h, body = http_request(port, "GET", bad)
        assert status == 400 and json.loads(body)["field"] in ("limit", "window"), bad


def test_the_token_guards_every_route_but_health_and_live(guarded):
    _cfg, port = guarded
    for path in ("/", "/metrics", "/api/metrics", "/health/ready", "/api/health", "/api/tokens"):
        status, headers, _body = http_request(port, "GET", path)
        assert status == 401 and headers["www-authenticate"] == "Bearer", path
    assert http_request(port, "GET", "/api/metrics", {"Authorization": "Bearer wrong"})[0] == 401
    assert http_request(port, "GET", "/api/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    basic = base64.b64encode(f"me:{TOKEN}".encode()).decode()
    assert http_request(port, "GET", "/", {"Authorization": f"Basic {basic}"})[0] == 200
    status, headers, _ = http_request(port, "GET", "/", {"Accept": "text/html"})
    assert status == 401 and headers["www-authenticate"].startswith("Basic")
    assert get_json(port, "/health") == {"status": "pass"}
    assert get_json(port, "/health/live") == {"status": "pass"}
    full = get_json(port, "/health/live", {"Authorization": f"Bearer {TOKEN}"})
    assert full["status"] == "pass" and "process" in full["checks"]


def test_reset_needs_the_token(guarded, served):
    _cfg, open_port = served
    status, _h, body = http_request(open_port, "POST", "/api/metrics/reset")
    assert status == 403 and "token" in json.loads(body)["error"]
    cfg, port = guarded
    assert http_request(port, "POST", "/api/metrics/reset")[0] == 401
    status, _h, body = http_request(port, "POST", "/api/metrics/reset", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and json.loads(body)["reset"] is True
    assert get_json(port, "/api/metrics", {"Authorization": f"Bearer {TOKEN}"})["totals"]["requests"] == 0


def test_health_probes_answer_health_json_no_store_and_503_on_failure(tmp_path):
    cfg = seeded_config(tmp_path, storage={"paths": [str(tmp_path / "missing")]})
    with devkit.serve_in_thread(cfg, port=0) as running:
        status, headers, body = http_request(running.port, "GET", "/health/storage")
        assert headers["content-type"] == "application/health+json"
        assert headers["cache-control"] == "no-store"
        assert status == 503 and json.loads(body)["status"] == "fail"
        status, _h, body = http_request(running.port, "GET", "/health/models")
        assert status == 200 and json.loads(body)["status"] == "warn"  # the model is not critical


def test_dashboard_is_rendered_on_the_server_escaped_with_a_nonce_csp(served):
    _cfg, port = served
    status, headers, body = http_request(port, "GET", "/dashboard")
    page = body.decode("utf-8")
    nonce = re.search(r"script-src 'nonce-([A-Za-z0-9_-]+)'", headers["content-security-policy"]).group(1)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert page.count(f'nonce="{nonce}"') == 2 and page.count("<script") == 2
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<dd id="kpi-requests">41</dd>' in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    second = http_request(port, "GET", "/dashboard")[1]["content-security-policy"]
    assert nonce not in second


def test_store_is_never_created_by_reading(tmp_path):
    from devkit.config import load_config
    from tests.integration._store_helpers import write_config

    cfg = load_config(explicit=write_config(tmp_path), env={})
    with devkit.serve_in_thread(cfg, port=0) as running:
        assert get_json(running.port, "/api/metrics")["totals"]["requests"] == 0
        assert http_request(running.port, "GET", "/metrics")[0] == 200
        assert http_request(running.port, "GET", "/")[0] == 200
    assert not (tmp_path / ".devkit" / "devkit.db").exists()


def test_the_wsgi_app_works_under_a_prefix_and_the_page_asks_with_relative_urls(tmp_path):
    import wsgiref.util

    cfg = seeded_config(tmp_path)
    application = devkit.wsgi_app(cfg)
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/devkit", "PATH_INFO": "/dashboard"}
    wsgiref.util.setup_testing_defaults(environ)
    seen = []
    page = b"".join(application(environ, lambda status, headers: seen.append(status))).decode("utf-8")
    assert seen == ["200 OK"]
    assert 'getJSON("api/metrics")' in page and '"/api/' not in page


def test_the_demo_feeds_its_own_store_through_track_and_the_api_even_with_a_token(tmp_path):
    started = time.time()
    with devkit.serve_in_thread(port=0, demo=True, token=TOKEN) as running:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        deadline, sources = time.monotonic() + 15, set()
        while time.monotonic() < deadline and sources != {"posted", "tracked"}:
            time.sleep(0.2)
            for op in get_json(running.port, "/api/operations?limit=1000", auth)["operations"]:
                if op["ts"] >= started:  # the back-filled history is older
                    sources.add("posted" if op["model"] == "nomic-embed" else "tracked")
        state = running.app.cfg.state_dir
        assert running.app.cfg.project_name == "devkit-demo" and state.startswith(tempfile.gettempdir())
        assert get_json(running.port, "/api/metrics", auth)["totals"]["requests"] > 500  # the back-fill
    assert sources == {"posted", "tracked"}
    assert not os.path.exists(state)
    assert not (tmp_path / ".devkit").exists()


def test_reads_are_cached_for_a_second_and_a_write_through_the_server_forgets_them(tmp_path):
    from devkit.core.records import Batch, OperationRecord
    from devkit.server.data import MetricsReader
    from devkit.store import open_store

    cfg, ticks = seeded_config(tmp_path), [0.0]
    reader = MetricsReader(cfg, clock=lambda: NOW, monotonic=lambda: ticks[0])
    first = reader.status_json()
    with open_store(cfg) as store:
        store.write_batch(
            Batch(
                [OperationRecord("late", NOW - 1, "chat", None, "ok", 1.0, 0, 0, None, 0.0, None, None, None)]
            )
        )
    ticks[0] = 0.9
    assert reader.status_json() is first
    ticks[0] = 1.1
    assert json.loads(reader.status_json())["totals"]["requests"] == 42
    with open_store(cfg) as store:
        store.write_batch(
            Batch(
                [
                    OperationRecord(
                        "later", NOW - 1, "chat", None, "ok", 1.0, 0, 0, None, 0.0, None, None, None
                    )
                ]
            )
        )
    reader.forget()
    assert json.loads(reader.status_json())["totals"]["requests"] == 43


def test_api_health_answers_even_when_its_report_cannot_be_saved(tmp_path, monkeypatch):
    from devkit.store import Store

    def refuse(self, report):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(Store, "save_health", refuse)
    cfg = seeded_config(tmp_path)
    with devkit.serve_in_thread(cfg, port=0) as running:
        status, headers, body = http_request(running.port, "GET", "/api/health")
    assert status == 200 and headers["content-type"] == "application/health+json"
    assert json.loads(body)["checks"]["config"][0]["status"] == "pass"

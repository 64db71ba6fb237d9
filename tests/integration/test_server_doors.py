"""One router, three doors: ``devkit serve``, the WSGI app under wsgiref and the ASGI app answer alike."""

import json
import re

import pytest

import devkit
from tests.integration._server_helpers import NOW, WsgiDoor, asgi_request, http_request, seeded_config

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GOOD_EVENT = json.dumps({"operation": "chat", "duration_ms": 5, "status": "ok", "ts": NOW - 1}).encode()
CASES = [
    ("GET", "/", AUTH, None),
    ("GET", "/dashboard", AUTH, None),
    ("GET", "/metrics", AUTH, None),
    ("GET", "/metrics", dict(AUTH, Accept="application/openmetrics-text; version=1.0.0"), None),
    ("GET", "/health", {}, None),
    ("GET", "/health/live", {}, None),
    ("GET", "/health/live", AUTH, None),
    ("GET", "/health/ready", AUTH, None),
    ("GET", "/health/ready", {}, None),
    ("GET", "/health/models", AUTH, None),
    ("GET", "/health/storage", AUTH, None),
    ("GET", "/api/metrics", AUTH, None),
    ("GET", "/api/metrics", {}, None),
    ("GET", "/api/timeseries?window=1h", AUTH, None),
    ("GET", "/api/timeseries?window=nope", AUTH, None),
    ("GET", "/api/operations?limit=5", AUTH, None),
    ("GET", "/api/operations?limit=0", AUTH, None),
    ("GET", "/api/tokens", AUTH, None),
    ("GET", "/api/health", AUTH, None),
    ("POST", "/api/events", AUTH, GOOD_EVENT),
    ("POST", "/api/events", AUTH, b"{not json"),
    ("POST", "/api/events", AUTH, b'[{"operation": "x", "duration_ms": -1, "status": "ok"}]'),
    ("POST", "/api/metrics/reset", {}, b""),
    ("GET", "/api/events", AUTH, None),
    ("DELETE", "/metrics", AUTH, None),
    ("GET", "/nowhere", AUTH, None),
    ("HEAD", "/health", {}, None),
]
_NONCE = re.compile(rb"nonce-?[=\"']*[A-Za-z0-9_-]{20,}")


def _normal(status, headers, body):
    headers = {k.lower(): v for k, v in headers.items() if k.lower() not in ("date", "server", "connection")}
    if "content-security-policy" in headers:
        headers["content-security-policy"] = _NONCE.sub(
            b"NONCE", headers["content-security-policy"].encode()
        ).decode()
    return status, headers, _NONCE.sub(b"NONCE", body)


@pytest.fixture
def doors(tmp_path):
    cfg = seeded_config(tmp_path, server={"token": TOKEN}, storage={"paths": [str(tmp_path)]})
    running = devkit.serve_in_thread(cfg, port=0, clock=lambda: NOW)
    wsgi = WsgiDoor(devkit.wsgi_app(cfg, clock=lambda: NOW))
    asgi = devkit.asgi_app(cfg, clock=lambda: NOW)
    try:
        yield running.port, wsgi.port, asgi
    finally:
        wsgi.close()
        running.stop()


@pytest.mark.parametrize("method,path,headers,body", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_every_route_answers_the_same_through_each_door(doors, method, path, headers, body):
    serve_port, wsgi_port, asgi = doors
    served = _normal(*http_request(serve_port, method, path, headers, body))
    assert served[0] in (200, 202, 400, 401, 403, 404, 405, 503)
    assert served[1]["x-content-type-options"] == "nosniff"
    assert _normal(*http_request(wsgi_port, method, path, headers, body)) == served
    assert _normal(*asgi_request(asgi, method, path, headers, body)) == served

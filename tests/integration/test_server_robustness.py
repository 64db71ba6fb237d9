"""The server under abuse: idle connections, garbage, oversized headers, truncated bodies, bad JSON."""

import json
import random
import re
import socket
import time

import pytest

import devkit
from devkit.errors import UsageError
from tests.integration._server_helpers import http_request, seeded_config

FUZZ_CASES = 2000
SEED = 20261127


@pytest.fixture
def running(tmp_path):
    cfg = seeded_config(tmp_path)
    server = devkit.serve_in_thread(cfg, port=0)
    try:
        yield server
    finally:
        server.stop()


def test_a_hundred_idle_connections_do_not_stop_health(running):
    idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(100)]
    try:
        idle[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # a request that never finishes
        started = time.monotonic()
        status, _headers, body = http_request(running.port, "GET", "/health", timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert (status, json.loads(body)) == (200, {"status": "pass"})
    finally:
        for sock in idle:
            sock.close()


def _garbage(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
    if kind == 1:
        return b"GET /" + b"a" * rng.choice((70000, 5000)) + b" HTTP/1.1\r\n\r\n"
    if kind == 2:
        headers = b"".join(
            b"X-H%d: %s\r\n" % (i, b"v" * rng.randrange(1, 200)) for i in range(rng.choice((5, 150)))
        )
        return b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    if kind == 3:
        body = b'[{"operation": "x", "duration_ms": 1, "status": "ok"}'
        return b"POST /api/events HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + body[: rng.randrange(len(body))]
    if kind == 4:
        body = bytes(
            rng.choice(b'{}[]",:0123456789.eE+-truefalsnul \\"') for _ in range(rng.randrange(1, 80))
        )
        return b"POST /api/events HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    line = (
        rng.choice((b"GET", b"POST", b"BREW", b"\x00\xff"))
        + b" "
        + rng.choice((b"/", b"/health", b"%zz", b""))
        + b" "
    )
    return (
        line
        + rng.choice((b"HTTP/1.1", b"HTTP/9.9", b"XYZ", b""))
        + b"\r\nContent-Length: "
        + rng.choice((b"-1", b"abc", b"99999999999"))
        + b"\r\n\r\n"
    )


def _send(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        chunks = []
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:  # the server may answer and close before it read everything
            pass
        return b"".join(chunks)


def test_fuzzed_requests_never_crash_the_server_nor_leak_a_traceback(running):
    rng = random.Random(SEED)
    answered = 0
    for case in range(FUZZ_CASES):
        reply = _send(running.port, _garbage(rng))
        assert b"Traceback" not in reply and b'File "' not in reply, case
        if reply:
            answered += 1
            assert reply.startswith(b"HTTP/1.1 "), reply[:80]
        if case % 250 == 0:
            assert http_request(running.port, "GET", "/health", timeout=2)[0] == 200
    assert answered > FUZZ_CASES // 2
    assert http_request(running.port, "GET", "/health", timeout=2)[0] == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_binding_beyond_loopback_without_a_token_is_refused(tmp_path, host):
    cfg = seeded_config(tmp_path)
    with pytest.raises(UsageError) as caught:
        devkit.serve_in_thread(cfg, host=host, port=0)
    assert (
        caught.value.message
        == f"server: refusing to listen on {host} without a token (set server.token or give one)"
    )


def test_the_cli_refuses_a_public_bind_without_a_token_in_one_line(run_devkit, tmp_path):
    result = run_devkit("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.code == 2
    assert (
        result.err
        == "devkit: error: server: refusing to listen on 0.0.0.0 without a token (set server.token or give one)\n"
    )


def _raw(port, payload):
    reply = _send(port, payload)
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_malformed_requests_get_json_errors(running):
    status, body = _raw(
        running.port, b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n"
    )
    assert status == 431 and "error" in body
    assert _raw(running.port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n")[0] == 414
    assert (
        _raw(running.port, b"POST /api/events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")[0]
        == 411
    )
    assert _raw(running.port, b"GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n") == (
        400,
        {"error": "bad Content-Length"},
    )


def test_an_idle_connection_is_closed_after_the_timeout(running, monkeypatch):
    from devkit.server.httpd import Handler

    monkeypatch.setattr(Handler, "timeout", 0.3)
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock:
        started = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - started < 4


def test_a_failing_route_answers_500_without_a_traceback(running, monkeypatch):
    def broken():
        raise RuntimeError("boom at /secret/path.py")

    monkeypatch.setattr(running.app.reader, "status_json", broken)
    status, headers, body = http_request(running.port, "GET", "/api/metrics")
    assert (status, json.loads(body)) == (500, {"error": "internal error"})
    assert http_request(running.port, "GET", "/health")[0] == 200


def test_verbose_logs_one_line_per_request(tmp_path):
    lines = []
    cfg = seeded_config(tmp_path)
    with devkit.serve_in_thread(cfg, port=0, log=lines.append) as server:
        http_request(server.port, "GET", "/health")
        http_request(server.port, "GET", "/nope")
    # Each handler thread logs after its response is sent: the two lines may come in either order.
    assert sorted(re.sub(r"\d+\.\d+ms$", "Tms", line) for line in lines) == [
        '127.0.0.1 "GET /health HTTP/1.1" 200 18 Tms',
        '127.0.0.1 "GET /nope HTTP/1.1" 404 27 Tms',
    ]

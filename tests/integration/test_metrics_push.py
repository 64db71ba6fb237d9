"""``metrics push --otlp``: against a stdlib collector stub on 127.0.0.1 (retries, errors, stop on signals)."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import REPO_ROOT, clean_env
from tests.integration._collector import Collector
from tests.integration._store_helpers import write_config

SECRET = "s3cr3t-token-value"
EVENT = {
    "operation": "chat",
    "model": "llama3",
    "status": "ok",
    "duration_ms": 412.5,
    "prompt_tokens": 120,
    "completion_tokens": 48,
}


@pytest.fixture
def project(tmp_path, cli):
    write_config(tmp_path, [{"name": "llama3", "provider": "ollama", "url": "http://127.0.0.1:11434"}])
    (tmp_path / "events.jsonl").write_text(json.dumps(EVENT) + "\n")
    assert cli("metrics", "ingest", "events.jsonl").code == 0
    return tmp_path


def test_push_posts_otlp_json_with_headers_and_retries_503(project, cli):
    with Collector([503, 503], headers={"Retry-After": "0"}) as stub:
        result = cli(
            "metrics",
            "push",
            "--otlp",
            stub.url,
            "--header",
            "Authorization=env:OTLP_TOKEN",
            "--json",
            env={"OTLP_TOKEN": SECRET},
        )
    assert result.code == 0, result
    assert [r["path"] for r in stub.requests] == ["/v1/metrics"] * 3
    last = stub.requests[-1]
    assert last["headers"]["Content-Type"] == "application/json"
    assert last["headers"]["Authorization"] == SECRET
    body = json.loads(last["body"])
    (scope,) = body["resourceMetrics"][0]["scopeMetrics"]
    assert "gen_ai.client.operation.duration" in {m["name"] for m in scope["metrics"]}
    data = json.loads(result.out)
    assert data["status"] == 200 and data["attempts"] == 3 and data["url"] == stub.url + "/v1/metrics"
    assert SECRET not in result.out + result.err


def test_backoff_without_retry_after_then_success(project, cli):
    with Collector([503]) as stub:
        result = cli("metrics", "push", "--otlp", stub.url + "/custom/path")
    assert result.code == 0, result
    assert [r["path"] for r in stub.requests] == ["/custom/path"] * 2
    assert result.out.startswith(
        f"pushed {len(stub.requests[-1]['body'])} bytes to {stub.url}/custom/path: HTTP 200"
    )


def test_400_is_one_line_exit_1_without_retry_or_secrets(project, cli):
    with Collector([400]) as stub:
        result = cli("metrics", "push", "--otlp", stub.url, "--header", f"X-Api-Key={SECRET}")
    assert result.code == 1
    assert len(stub.requests) == 1
    assert result.err == (
        f"devkit: error: {stub.url}/v1/metrics: HTTP 400 Bad Request: "
        '{"code": 3, "message": "bad\\nrequest"}\n'
    )
    assert SECRET not in result.out + result.err


def test_503_after_the_retries_is_exit_1(project, cli):
    with Collector(then=503, headers={"Retry-After": "0"}) as stub:
        result = cli("metrics", "push", "--otlp", stub.url, "--retries", "2")
    assert result.code == 1 and len(stub.requests) == 3
    assert result.err.endswith(
        "HTTP 503 Service Unavailable: " + '{"code": 3, "message": "bad\\nrequest"}'
        " (gave up after 3 attempt(s))\n"
    )
    assert result.err.count("\n") == 1


def test_redirects_are_refused_so_headers_never_follow(project, cli):
    with (
        Collector(then=200) as target,
        Collector([307], headers={"Location": target.url + "/v1/metrics"}) as stub,
    ):
        result = cli("metrics", "push", "--otlp", stub.url, "--header", f"Authorization={SECRET}")
    assert result.code == 1 and "redirects are refused" in result.err
    assert target.requests == [] and SECRET not in result.err


def test_unreachable_collector_retries_then_fails(project, cli):
    with Collector() as stub:
        url = stub.url
    result = cli("metrics", "push", "--otlp", url + "/?key=abc", "--retries", "1")
    assert result.code == 1
    assert result.err.startswith(f"devkit: error: {url}/v1/metrics: cannot connect: ")
    assert "abc" not in result.err and result.err.endswith("(gave up after 2 attempt(s))\n")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--otlp", "ftp://x/"], "ftp://x/: not an http:// or https:// URL with a host"),
        (["--otlp", "http://user:pw@127.0.0.1:9"], "http://127.0.0.1:9: user info in the URL is not sent"),
        (
            ["--otlp", "http://127.0.0.1:port"],
            "http://127.0.0.1:port: the port is not a number from 0 to 65535",
        ),
        (
            ["--otlp", "http://127.0.0.1:9", "--header", "no-equals"],
            "header 'no-equals': expected NAME=VALUE",
        ),
        (
            ["--otlp", "http://127.0.0.1:9", "--header", "Content-Type=x"],
            "header Content-Type: set by devkit itself",
        ),
        (
            ["--otlp", "http://127.0.0.1:9", "--header", "A=env:NOPE_UNSET"],
            "environment variable NOPE_UNSET is not set",
        ),
        (["--otlp", "http://127.0.0.1:9", "--count", "2"], "--count: only with --every"),
    ],
)
def test_bad_arguments_are_usage_errors(project, cli, argv, message):
    result = cli("metrics", "push", *argv)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1
    assert "pw" not in result.err


def _push_process(project, url, *extra):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    argv = [sys.executable, "-m", "devkit", "metrics", "push", "--otlp", url, *extra]
    return subprocess.Popen(
        argv,
        cwd=str(project),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_requests(stub, proc, count):
    deadline = time.monotonic() + 20
    while len(stub.requests) < count and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_schedule_stops_on_signal_after_the_current_round(project, signum):
    with Collector() as stub:
        proc = _push_process(project, stub.url, "--every", "0.2s", "--json")
        _wait_for_requests(stub, proc, 2)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
        received = len(stub.requests)
    assert proc.returncode == 0, err
    assert "devkit: push schedule stopped" in err
    data = json.loads(out)
    assert data["rounds"] == received >= 2


def test_a_signal_during_the_backoff_ends_the_wait_at_once(project):
    with Collector(then=503) as stub:
        proc = _push_process(project, stub.url, "--retries", "10")
        _wait_for_requests(stub, proc, 1)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        waited = time.monotonic() - started
    assert proc.returncode == 1 and out == ""
    assert err.endswith(
        "HTTP 503 Service Unavailable: " + '{"code": 3, "message": "bad\\nrequest"}'
        " (stopped after 1 attempt(s))\n"
    )
    assert len(stub.requests) == 1 and waited < 15  # the backoff alone would wait 0.5 s, then 1 s, 2 s, ...


def test_a_failed_push_ends_the_schedule_with_exit_1(project, cli):
    with Collector([200, 400]) as stub:
        result = cli("metrics", "push", "--otlp", stub.url, "--every", "0.05s")
    assert result.code == 1 and len(stub.requests) == 2
    assert result.err.endswith("HTTP 400 Bad Request: " + '{"code": 3, "message": "bad\\nrequest"}\n')


def test_without_a_store_it_pushes_an_empty_request(tmp_path, cli):
    write_config(tmp_path)
    with Collector() as stub:
        assert cli("metrics", "push", "--otlp", stub.url).code == 0
    (scope,) = json.loads(stub.requests[0]["body"])["resourceMetrics"][0]["scopeMetrics"]
    assert scope["metrics"] == [] and not (tmp_path / ".devkit").exists()


def test_a_server_that_does_not_speak_http_is_a_clean_error(project, cli):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def answer_garbage():
        for _ in range(2):
            conn, _addr = listener.accept()
            conn.recv(65536)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        port = listener.getsockname()[1]
        result = cli("metrics", "push", "--otlp", f"http://127.0.0.1:{port}", "--retries", "1")
    finally:
        thread.join(10)
        listener.close()
    assert result.code == 1
    assert result.err == (
        f"devkit: error: http://127.0.0.1:{port}/v1/metrics: not an HTTP answer: "
        "BadStatusLine (gave up after 2 attempt(s))\n"
    )


def test_retry_after_is_bounded_and_ignores_nonsense():
    from devkit.export.push import MAX_RETRY_AFTER_S, _retry_after

    assert [_retry_after(v) for v in ("2", "-5", "1e9", "nan", "Wed, 21 Oct 2015 07:28:00 GMT", None)] == [
        2.0,
        0.0,
        MAX_RETRY_AFTER_S,
        None,
        None,
        None,
    ]


class _RecordingStop:
    """A stop flag that is never set and records how long each retry would wait."""

    def __init__(self):
        self.waits = []

    def wait(self, delay):
        self.waits.append(delay)
        return False


def test_backoff_doubles_from_half_a_second_up_to_eight():
    from devkit.export.push import PushError, push

    stop = _RecordingStop()
    with Collector(then=503) as stub, pytest.raises(PushError, match=r"gave up after 7 attempt\(s\)"):
        push(stub.url + "/v1/metrics", b"{}", {}, stop, retries=6)
    assert stop.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0] and len(stub.requests) == 7

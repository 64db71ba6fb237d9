"""Issue 15 item 3: the model API key never follows a redirect to another origin (scheme, host, port)."""

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from devkit.health.models import origin
from tests.adversarial.conftest import run_cli, write_json

KEY = "sk-adversarial-0123456789"
MODELS = {"object": "list", "data": [{"id": "gpt-x"}]}


@contextlib.contextmanager
def server(answer):
    """A server on 127.0.0.1 whose ``answer(handler)`` returns (status, headers, body); records each request."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append((self.path, self.headers.get("Authorization")))
            status, headers, body = answer(self)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _models_answer(_handler):
    return 200, {"Content-Type": "application/json"}, json.dumps(MODELS).encode()


def _redirect_to(url):
    def answer(handler):
        if handler.path == "/v1/models":
            return 302, {"Location": url}, b""
        return _models_answer(handler)

    return answer


def _health(root, base_url):
    model = {"name": "gpt-x", "provider": "openai", "url": base_url, "api_key": "env:ADV_KEY"}
    write_json(root / "devkit.json", {"models": [model]})
    code, out, err = run_cli(root, "--json", "health", "--check", "model.gpt-x", env={"ADV_KEY": KEY})
    assert "Traceback" not in err and "unexpected" not in err, err
    return code, json.loads(out)["checks"]["model.gpt-x:latency"][0]


def test_a_redirect_to_another_port_gets_no_credentials_and_warns(tmp_path):
    with server(_models_answer) as (other_url, other_seen):
        # localhost vs 127.0.0.1 and another port: another origin on both counts.
        target = other_url.replace("127.0.0.1", "localhost") + "/v1/models"
        with server(_redirect_to(target)) as (first_url, first_seen):
            code, check = _health(tmp_path, first_url)
    assert first_seen == [("/v1/models", f"Bearer {KEY}")]
    assert other_seen == [("/v1/models", None)]
    assert code == 1 and check["status"] == "warn"
    assert f"redirected to another origin: {target}, credentials not sent there" in check["output"]
    assert KEY not in json.dumps(check)


def test_a_redirect_within_the_origin_keeps_credentials(tmp_path):
    with server(lambda h: _redirect_to("/v2/models")(h)) as (url, seen):
        code, check = _health(tmp_path, url)
    assert seen == [("/v1/models", f"Bearer {KEY}"), ("/v2/models", f"Bearer {KEY}")]
    assert code == 0 and check["status"] == "pass", check


def test_a_failed_probe_after_a_cross_origin_redirect_names_the_target(tmp_path):
    with server(lambda h: (401, {}, b"")) as (other_url, other_seen):
        with server(_redirect_to(other_url + "/v1/models")) as (first_url, _seen):
            code, check = _health(tmp_path, first_url)
    assert other_seen == [("/v1/models", None)]
    assert code == 2 and check["status"] == "fail"
    assert check["output"].startswith("auth failed: HTTP 401")
    assert f"redirected to another origin: {other_url}/v1/models" in check["output"]


def test_origin_is_scheme_host_and_port():
    assert origin("http://Example.com/a") == origin("http://example.com:80/b")
    assert origin("https://example.com/") == ("https", "example.com", 443)
    assert origin("http://example.com:8080/") != origin("http://example.com/")
    assert origin("https://example.com/") != origin("http://example.com/")

"""Fake model servers on 127.0.0.1 for the health tests: Ollama, OpenAI-compatible, 401, hanging, closed port.

Each is a context manager yielding its base URL and is always shut down on exit.
"""

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    routes = {}
    delay_s = 0.0

    def do_GET(self):  # noqa: N802 - http.server's naming
        time.sleep(self.delay_s)
        answer = self.routes.get(self.path)
        if answer is None:
            self._send(404, {"error": "not found"})
            return
        status, body = answer(self.headers) if callable(answer) else answer
        self._send(status, body)

    def _send(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def http_server(routes, delay_s=0.0):
    """Serve ``{path: (status, body) | fn(headers) -> (status, body)}``; yield the base URL."""
    handler = type("Handler", (_Handler,), {"routes": routes, "delay_s": delay_s})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fake_ollama(models=("llama3:latest", "mistral:7b"), delay_s=0.0):
    """A fake Ollama: ``GET /api/tags`` lists ``models``."""
    tags = {"models": [{"name": m, "model": m, "size": 1} for m in models]}
    return http_server({"/api/tags": (200, tags)}, delay_s)


def fake_openai(key, models=("gpt-4o-mini",)):
    """A fake OpenAI-compatible server: ``GET /v1/models`` answers only ``Authorization: Bearer <key>``."""
    listing = {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}

    def answer(headers):
        if headers.get("Authorization") != f"Bearer {key}":
            return 401, {"error": {"message": "Incorrect API key provided"}}
        return 200, listing

    return http_server({"/v1/models": answer})


def fake_401():
    """A server that answers 401 to everything it knows."""
    body = {"error": "unauthorized"}
    return http_server({"/v1/models": (401, body), "/api/tags": (401, body), "/": (401, body)})


@contextlib.contextmanager
def hanging_server():
    """Accepts connections and never answers; closes them all on exit (so teardown is fast)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.05)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(1)
        listener.close()
        for conn in held:
            conn.close()


def closed_port_url():
    """The URL of a port nothing listens on (bound, then released)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"

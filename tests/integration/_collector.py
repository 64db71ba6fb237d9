"""A stdlib OTLP/HTTP collector stub on 127.0.0.1 that answers with scripted statuses and records requests."""

import http.server
import threading


class Collector:
    """``with Collector([503, 200]) as c: ... c.url, c.requests``; after the script it answers ``then``."""

    def __init__(self, statuses=(), then=200, headers=None):
        self.statuses = list(statuses)
        self.then = then
        self.extra_headers = dict(headers or {})
        self.requests = []
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        """Base URL (no path) of the stub."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def next_status(self, path, headers, body):
        """Record one request and pick the status to answer."""
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            return self.statuses.pop(0) if self.statuses else self.then

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        return False


def _handler(collector):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = collector.next_status(self.path, dict(self.headers), body)
            reply = b"{}" if status == 200 else b'{"code": 3, "message": "bad\\nrequest"}'
            self.send_response(status)
            for name, value in collector.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    return Handler

"""Helpers for the server tests: a seeded store, a fixed clock, and clients for each door."""

import asyncio
import http.client
import json
import threading
import wsgiref.simple_server

from devkit.config import load_config
from devkit.core.records import Batch, OperationRecord
from devkit.store import open_store
from tests.integration._store_helpers import write_config

NOW = 1_800_000_000.0
XSS = "<img src=x onerror=alert(1)>"


def seeded_config(root, **sections):
    """A config in ``root`` whose store holds known operations (one named like an XSS payload)."""
    sections.setdefault("project", {"name": "served"})
    path = write_config(
        root,
        models=[
            {
                "name": "llama3",
                "provider": "http",
                "url": "http://127.0.0.1:9/x",
                "timeout": 0.5,
                "critical": False,
            }
        ],
        **sections,
    )
    cfg = load_config(explicit=path, env={})
    records = [
        OperationRecord(
            f"s{i}",
            NOW - 600 + i,
            "chat" if i % 3 else "embed",
            "llama3" if i % 2 else "mini",
            "error" if i % 7 == 0 else "ok",
            20.0 + i,
            10 + i,
            2 * i,
            None,
            0.001 * i,
            None,
            None,
            None,
        )
        for i in range(1, 41)
    ]
    records.append(OperationRecord("xss", NOW - 5, XSS, XSS, "error", 12.5, 1, 1, None, 0.0, XSS, None, None))
    with open_store(cfg) as store:
        store.write_batch(Batch(records))
    return cfg


def http_request(port, method, path, headers=None, body=None, host="127.0.0.1", timeout=10):
    """(status, headers dict lower-cased, body bytes) of one request over a fresh connection."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def get_json(port, path, headers=None):
    """The decoded JSON body of ``GET path`` (asserting 200)."""
    status, _headers, body = http_request(port, "GET", path, headers)
    assert status == 200, (path, status, body[:200])
    return json.loads(body)


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    """wsgiref's handler without the access log on stderr."""

    def log_message(self, *args):
        pass


class WsgiDoor:
    """A WSGI app served by wsgiref.simple_server on a free loopback port, in a thread."""

    def __init__(self, application):
        self.server = wsgiref.simple_server.make_server(
            "127.0.0.1", 0, application, handler_class=QuietHandler
        )
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()


def asgi_request(application, method, path, headers=None, body=b""):
    """Drive an ASGI app through one request with a minimal stdlib harness: (status, headers, body)."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "path": raw_path,
        "raw_path": raw_path.encode("latin-1"),
        "query_string": query.encode("latin-1"),
        "headers": [
            (k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in (headers or {}).items()
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = []
    chunks = [{"type": "http.request", "body": body or b"", "more_body": False}]

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}, body_out

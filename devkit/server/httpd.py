"""``devkit serve`` over ``http.server``: a thread per connection, idle timeouts, a graceful stop.

The server never polls: its accept loop sleeps in ``select`` on the listening socket and a wake
pipe, so with no client it does no work at all.
"""

import http.server
import os
import selectors
import socket
import socketserver
import threading
import time

from devkit.server.app import MAX_BODY_BYTES, REASONS, Request, error_response

IDLE_TIMEOUT_S = 10.0
LINGER_S = 2.0
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


class Handler(http.server.BaseHTTPRequestHandler):
    """Turns each HTTP/1.1 request into a Request for the App and writes its Response."""

    protocol_version = "HTTP/1.1"
    server_version = "devkit"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    unread_body = False

    def handle_one_request(self):
        """Serve one request; a timed-out or vanished client just closes the connection."""
        try:
            super().handle_one_request()
        except (socket.timeout, ConnectionError):
            self.close_connection = True

    def _dispatch(self):
        started = time.perf_counter()
        with self.server.tracker:
            response = self._response()
            if response is None:
                return
            if self.server.closing.is_set():
                self.close_connection = True
            self._write(response)
        self.server.log_request_line(self, response, started)
        if self.unread_body:
            self._linger()

    def _linger(self):
        # Closing with the refused body unread would reset the connection before the client reads the 413.
        deadline = time.monotonic() + LINGER_S
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(LINGER_S)
        while time.monotonic() < deadline and self.rfile.read1(65536):
            pass

    def _response(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return error_response(411, "send a Content-Length (chunked bodies are not accepted)")
        text = self.headers.get("Content-Length", "0").strip()
        if not text.isdigit():
            self.close_connection = True
            return error_response(400, "bad Content-Length")
        if int(text) > MAX_BODY_BYTES:
            self.close_connection = self.unread_body = True
            return error_response(413, f"body over {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(int(text)) if int(text) else b""
        if len(body) < int(text):
            self.close_connection = True
            return None
        return self.server.app.handle(Request(self.command, self.path, self.headers.items(), body))

    def _write(self, response):
        lines = [f"{self.protocol_version} {response.status} {response.reason}\r\n"]
        lines += [f"{name}: {value}\r\n" for name, value in response.all_headers()]
        if self.close_connection:
            lines.append("Connection: close\r\n")
        self.wfile.write(("".join(lines) + "\r\n").encode("latin-1") + response.payload)

    def send_error(self, code, message=None, explain=None):
        """Malformed requests (bad request line, too long or too many headers) get a JSON error."""
        self.close_connection = True
        status = code if code in REASONS else 400
        response = error_response(status, message or REASONS[status])
        self.request_version = "HTTP/1.1"
        try:
            self._write(response)
            self._linger()
        except OSError:
            pass

    def log_message(self, format, *args):
        """Quiet: -v logs one line per request instead (see log_request_line)."""


for _method in METHODS:
    setattr(Handler, f"do_{_method}", Handler._dispatch)


class InFlight:
    """Counts requests being answered; ``wait_idle`` waits until none are."""

    def __init__(self):
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self):
        with self._idle:
            self._count += 1

    def __exit__(self, *exc):
        with self._idle:
            self._count -= 1
            if not self._count:
                self._idle.notify_all()
        return False

    def wait_idle(self, timeout_s):
        """True when no request is in flight within ``timeout_s``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout_s)


class DevkitServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """A threading HTTP server for ``app`` that stops gracefully and logs one line per request with ``log``."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, host, port, app, log=None):
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app, self.log = app, log
        self.tracker = InFlight()
        self.closing = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._loop_done = threading.Event()
        super().__init__((host, port), Handler)

    def server_bind(self):
        """Bind without the reverse DNS lookup HTTPServer does (slow or hanging on some boxes)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def serve_until_closed(self):
        """Accept connections until :meth:`close_gracefully`; sleeps in select, never polls."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            try:
                while not self.closing.is_set():
                    for key, _ in selector.select():
                        if key.fileobj is self.socket and not self.closing.is_set():
                            self._handle_request_noblock()
            finally:
                self._loop_done.set()

    def close_gracefully(self, timeout_s=1.5):
        """Stop accepting, let requests in flight finish (up to ``timeout_s``), close; True when all did."""
        deadline = time.monotonic() + timeout_s
        self.closing.set()
        os.write(self._wake_w, b"x")
        self._loop_done.wait(timeout_s)
        finished = self.tracker.wait_idle(max(0.0, deadline - time.monotonic()))
        self.server_close()
        return finished

    def server_close(self):
        """Close the listening socket and the wake pipe (idempotent)."""
        super().server_close()
        fds, self._wake_r, self._wake_w = (self._wake_r, self._wake_w), None, None
        for fd in fds:
            if fd is not None:
                os.close(fd)

    def handle_error(self, request, client_address):
        """A broken connection costs that client only; -v names it in one line."""
        if self.log is not None:
            self.log(f"devkit serve: connection from {client_address[0]} dropped")

    def log_request_line(self, handler, response, started):
        """One line per request on the log (only with -v)."""
        if self.log is not None:
            took_ms = (time.perf_counter() - started) * 1000.0
            line = handler.requestline.encode("ascii", "backslashreplace").decode("ascii")
            self.log(
                f'{handler.client_address[0]} "{line}" {response.status} {len(response.body)} {took_ms:.1f}ms'
            )

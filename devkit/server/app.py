"""The one router of ``devkit serve``: requests in, responses out, whichever server carries them.

``http.server`` (``devkit serve``), WSGI and ASGI all turn their request into a :class:`Request`
and send back the :class:`Response` that :meth:`App.handle` returns, so every route answers the
same through each door. No traceback ever reaches a response.
"""

import base64
import binascii
import hmac
import json
import time
import urllib.parse

from devkit.server.data import MetricsReader

MAX_BODY_BYTES = 1 << 20
JSON_TYPE = "application/json; charset=utf-8"
PUBLIC_PATHS = ("/health", "/health/live")
BASE_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'"
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class Request:
    """One HTTP request: method, path, decoded query, lower-cased headers and the body bytes."""

    def __init__(self, method, target, headers=(), body=b""):
        path, _, query = str(target).partition("?")
        self.method = str(method).upper()
        self.path = urllib.parse.unquote(path) or "/"
        self.query = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        self.headers = {
            str(k).lower(): str(v) for k, v in (headers.items() if hasattr(headers, "items") else headers)
        }
        self.body = body


class Response:
    """Status, headers (name, value pairs) and body bytes of one answer."""

    def __init__(self, status, body=b"", content_type=JSON_TYPE, headers=()):
        self.status = status
        self.body = body if isinstance(body, bytes) else str(body).encode("utf-8")
        self.headers = [("Content-Type", content_type), *headers]
        if not any(name == "Content-Security-Policy" for name, _ in self.headers):
            self.headers.append(("Content-Security-Policy", DATA_CSP))
        self.headers += BASE_HEADERS
        self.omit_body = False

    @property
    def reason(self):
        """The reason phrase of ``status``."""
        return REASONS.get(self.status, "Unknown")

    def all_headers(self):
        """Headers including Content-Length."""
        return self.headers + [("Content-Length", str(len(self.body)))]

    @property
    def payload(self):
        """The bytes to send: the body, or nothing for a HEAD request."""
        return b"" if self.omit_body else self.body


def json_response(status, data, headers=()):
    """``data`` as a compact JSON response."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    return Response(status, body.encode("utf-8"), JSON_TYPE, headers)


def error_response(status, message, **extra):
    """The JSON error every route uses: ``{"error": message, ...}``."""
    return json_response(status, dict({"error": message}, **extra))


class App:
    """The routes of the dashboard server over the store of ``cfg``; call :meth:`handle`."""

    def __init__(self, cfg, token=None, clock=time.time, log=None, cache_ttl_s=1.0):
        from devkit.server.routes import route_table

        self.cfg = cfg
        self.token = token or None
        self.clock = clock
        self.log = log
        self.reader = MetricsReader(cfg, clock, cache_ttl_s)
        self.routes = route_table()

    def authorized(self, request):
        """True when no token is set, or the request carries it (Bearer, or Basic with it as password)."""
        if self.token is None:
            return True
        given = _credential(request.headers.get("authorization", ""))
        return given is not None and hmac.compare_digest(given.encode("utf-8"), self.token.encode("utf-8"))

    def handle(self, request):
        """The Response for ``request``; any failure inside a route becomes a bare 500."""
        try:
            return self._route(request)
        except Exception as exc:  # noqa: BLE001 - a route's failure must never show a traceback
            if self.log is not None:
                self.log(f"devkit serve: {request.method} {request.path}: {type(exc).__name__}: {exc}")
            return error_response(500, "internal error")

    def _route(self, request):
        methods = self.routes.get(request.path.rstrip("/") or "/")
        if methods is None:
            return error_response(404, f"no route {request.path}")
        method = "GET" if request.method == "HEAD" else request.method
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(sorted(set(methods) | ({"HEAD"} if "GET" in methods else set())))
            return json_response(
                405, {"error": f"{request.method} not allowed on {request.path}"}, [("Allow", allow)]
            )
        if len(request.body) > MAX_BODY_BYTES:
            return error_response(413, f"body over {MAX_BODY_BYTES} bytes")
        if request.path not in PUBLIC_PATHS and not self.authorized(request):
            return _unauthorized(request)
        response = handler(self, request)
        response.omit_body = request.method == "HEAD"
        return response


def _unauthorized(request):
    # Basic lets a browser ask for the token (as the password) for the dashboard page.
    scheme = (
        'Basic realm="devkit", charset="UTF-8"'
        if "text/html" in request.headers.get("accept", "")
        else "Bearer"
    )
    return json_response(401, {"error": "missing or wrong token"}, [("WWW-Authenticate", scheme)])


def _credential(header):
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None

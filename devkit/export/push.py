"""POST OTLP/HTTP JSON metrics to a collector, retrying with backoff on 429, 5xx and connection errors.

Header values are never part of a message, a redirect is refused (headers may carry credentials
and must not follow it to another origin), and the URL is shown without user info or query.
"""

import http.client
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request

from devkit.errors import OperationError, UsageError
from devkit.term import printable

METRICS_PATH = "/v1/metrics"
CONTENT_TYPE = "application/json"
DEFAULT_RETRIES = 3
MAX_RETRIES = 10
BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
MAX_RETRY_AFTER_S = 30.0
TIMEOUT_S = 10.0
MAX_REPLY_BYTES = 64 * 1024
MAX_REPLY_SHOWN = 200
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")
_RESERVED_HEADERS = ("content-type", "content-length", "host")


class PushError(OperationError):
    """The collector refused the metrics, or could not be reached after the retries (exit 1)."""


def otlp_url(text):
    """``text`` as a collector URL: http(s) with a host; a bare host gets ``/v1/metrics`` appended."""
    parts = urllib.parse.urlsplit(str(text).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{shown_url(text)}: not an http:// or https:// URL with a host")
    try:
        parts.port
    except ValueError:
        raise UsageError(f"{shown_url(text)}: the port is not a number from 0 to 65535") from None
    if "@" in parts.netloc:
        raise UsageError(f"{shown_url(text)}: user info in the URL is not sent; give credentials as a header")
    path = parts.path if parts.path not in ("", "/") else METRICS_PATH
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def shown_url(url):
    """``url`` without user info, query or fragment, control characters escaped: safe to print."""
    parts = urllib.parse.urlsplit(str(url))
    host = parts.netloc.rpartition("@")[2]
    return printable(urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")) or str(url)[:40])


def parse_headers(pairs, env):
    """``{name: value}`` from ``NAME=VALUE`` texts; a value ``env:VAR`` is read from ``env``.

    Messages name the header, never its value.
    """
    headers = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not _HEADER_NAME.match(name):
            raise UsageError(f"header {printable(name[:40])!r}: expected NAME=VALUE with a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise UsageError(f"header {name}: set by devkit itself")
        if value.startswith("env:"):
            value = env.get(value[4:])
            if value is None:
                raise UsageError(
                    f"header {name}: environment variable {pair.partition('env:')[2]} is not set"
                )
        if any(c in value for c in "\r\n\0"):
            raise UsageError(f"header {name}: the value holds a line break or NUL")
        headers[name] = value
    return headers


def push(url, body, headers, stop, retries=DEFAULT_RETRIES, timeout_s=TIMEOUT_S):
    """POST ``body`` (bytes) to ``url``; retry 429/5xx/connection errors with backoff until ``stop`` is set.

    Returns ``{"status", "attempts"}``; raises PushError on another 4xx, a redirect, or when
    the retries are used up (or ``stop`` ends the wait for the next one).
    """
    opener = urllib.request.build_opener(_RefuseRedirects)
    request_headers = dict(headers, **{"Content-Type": CONTENT_TYPE})
    for attempt in range(1, retries + 2):
        status, problem, retry_after = _post(opener, url, body, request_headers, timeout_s)
        if problem is None:
            return {"status": status, "attempts": attempt}
        if status is not None and status != 429 and status < 500:
            raise PushError(f"{shown_url(url)}: {problem}")
        delay = retry_after if retry_after is not None else min(BACKOFF_S * 2 ** (attempt - 1), MAX_BACKOFF_S)
        if attempt > retries:
            break
        if stop.wait(delay):
            raise PushError(f"{shown_url(url)}: {problem} (stopped after {attempt} attempt(s))")
    raise PushError(f"{shown_url(url)}: {problem} (gave up after {attempt} attempt(s))")


def _post(opener, url, body, headers, timeout_s):
    """One POST: ``(status, problem or None, retry_after_s or None)``."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout_s) as response:
            response.read(MAX_REPLY_BYTES)
            return response.status, None, None
    except urllib.error.HTTPError as exc:
        with exc:
            reply = exc.read(MAX_REPLY_BYTES)
        return exc.code, _http_problem(exc, reply), _retry_after(exc.headers.get("Retry-After"))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return None, f"cannot connect: {printable(str(reason))[:MAX_REPLY_SHOWN]}", None
    except http.client.HTTPException as exc:
        return None, f"not an HTTP answer: {type(exc).__name__}", None


def _http_problem(exc, reply):
    text = f"HTTP {exc.code} {printable(str(exc.reason or ''))}".rstrip()
    if 300 <= exc.code < 400:
        return text + " (redirects are refused: give the collector's final URL)"
    snippet = printable(reply.decode("utf-8", "replace").strip())[:MAX_REPLY_SHOWN]
    return f"{text}: {snippet}" if snippet else text


def _retry_after(value):
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S) if not math.isnan(seconds) else None


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an HTTPError, so headers never follow it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def request_body(cfg, since, now):
    """The OTLP/JSON request body (bytes) of one snapshot of the store since ``since`` (a span or ``all``)."""
    from devkit.export.otlp import export_request, model_providers
    from devkit.snapshot import take

    snapshot = take(cfg, since, now)
    return json.dumps(export_request(snapshot, model_providers(cfg)), ensure_ascii=False).encode("utf-8")

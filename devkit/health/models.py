"""Model endpoint checks: a probe ladder that spends no tokens.

reachable -> lists models -> the configured model is there. ``ollama`` asks
``GET {url}/api/tags``, ``openai`` asks ``GET {url}/v1/models`` (Bearer key from
the config, resolved from the environment), ``http`` asks any URL for an expected
status. Unreachable, auth failure (401/403), missing model, slow answer and bad
response each get their own words.
"""

import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from devkit.health.core import Check, Outcome, perf_number

USER_AGENT = "devkit-health"


class ProbeFailed(Exception):
    """A probe step that failed; the message is the check's one-line output."""


def origin(url):
    """``(scheme, host, port)`` of ``url``, the default port filled in: what "same origin" compares."""
    parsed = urllib.parse.urlsplit(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme.lower())
    return parsed.scheme.lower(), (parsed.hostname or "").lower(), port


class _OriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects but drops Authorization when one leads to another origin, and remembers where."""

    def __init__(self, first_url):
        self.origin = origin(first_url)
        self.elsewhere = []

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        """The next request of a redirect, without credentials when it leaves the first origin."""
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and origin(new.full_url) != self.origin:
            for name in [n for n in new.headers if n.lower() == "authorization"]:
                del new.headers[name]
            self.elsewhere.append(new.full_url)
        return new


def model_check(cfg, model):
    """A Check for one configured model (name ``model.<name>``)."""
    health = cfg.section("health")

    def probe():
        return probe_model(model, cfg.secret(model.get("api_key")), health["slow_ms"])

    return Check(
        f"model.{model['name']}",
        probe,
        component_type="model",
        critical=model["critical"],
        timeout_s=model["timeout"],
        measurement="latency",
        component_id=model["name"],
    )


def probe_model(model, api_key, slow_ms):
    """Probe one model endpoint and return its Outcome (latency in ms)."""
    url, headers = _target(model, api_key)
    redirects = _OriginRedirects(url)
    started = time.monotonic()
    try:
        status, body = _get(url, headers, model["timeout"], model["expected_status"], redirects)
        latency_ms = (time.monotonic() - started) * 1000.0
        found = _present(model, body, status)
    except ProbeFailed as failed:
        moved = _redirect_words(redirects, api_key)
        return Outcome("fail", f"{failed} ({moved})" if moved else str(failed))
    if redirects.elsewhere:
        text = f"{found}; {_redirect_words(redirects, api_key)}"
        return Outcome("warn", text, round(latency_ms, 3), "ms")
    perf = (perf_number(slow_ms / 1000.0), perf_number(model["timeout"]), "0", None)
    value = round(latency_ms, 3)
    if latency_ms > slow_ms:
        return Outcome(
            "warn", f"slow: answered in {latency_ms:.0f} ms (over {slow_ms:g} ms)", value, "ms", perf
        )
    return Outcome("pass", f"{found} ({latency_ms:.0f} ms)", value, "ms", perf)


def _target(model, api_key):
    base = model["url"].rstrip("/")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if model["provider"] == "ollama":
        return base + "/api/tags", headers
    if model["provider"] == "openai":
        return (base + "/models" if base.endswith("/v1") else base + "/v1/models"), headers
    return model["url"], headers


def _redirect_words(redirects, api_key):
    if not redirects.elsewhere:
        return ""
    sent = "credentials not sent there" if api_key else "no credentials configured"
    return f"redirected to another origin: {redirects.elsewhere[0]}, {sent}"


def _get(url, headers, timeout_s, expected_status, redirects):
    request = urllib.request.Request(url, headers=headers, method="GET")
    opener = urllib.request.build_opener(redirects)
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return response.status, response.read(8 * 1024 * 1024)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == expected_status:
            return error.code, b""
        raise ProbeFailed(_http_error_words(error.code)) from None
    except urllib.error.URLError as error:
        raise ProbeFailed(_unreachable_words(error.reason, url, timeout_s)) from None
    except (socket.timeout, TimeoutError):
        raise ProbeFailed(f"no answer within {timeout_s:g} s") from None
    except (OSError, ValueError) as error:
        raise ProbeFailed(f"bad response: {type(error).__name__}: {error}") from None


def _http_error_words(code):
    if code in (401, 403):
        return f"auth failed: HTTP {code} (check the model's api_key)"
    if code == 404:
        return "bad response: HTTP 404 (wrong url or provider?)"
    return f"bad response: HTTP {code}"


def _unreachable_words(reason, url, timeout_s):
    parsed = urllib.request.urlparse(url)
    host = f"{parsed.hostname}:{parsed.port}" if parsed.port else str(parsed.hostname)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout_s:g} s from {host}"
    if isinstance(reason, ConnectionRefusedError):
        return f"unreachable: connection refused by {host}"
    if isinstance(reason, socket.gaierror):
        return f"unreachable: cannot resolve {parsed.hostname}"
    return f"unreachable: {host}: {getattr(reason, 'strerror', None) or reason}"


def _present(model, body, status):
    provider, wanted = model["provider"], model["model"]
    if provider == "http":
        if status != model["expected_status"]:
            raise ProbeFailed(f"bad response: HTTP {status}, expected {model['expected_status']}")
        return f"HTTP {status}"
    names = _listed_models(provider, body)
    if provider == "ollama":
        match = [n for n in names if n == wanted or (":" not in wanted and n == wanted + ":latest")]
    else:
        match = [n for n in names if n == wanted]
    if not match:
        shown = ", ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")
        raise ProbeFailed(f"model missing: {wanted!r} not among {len(names)} listed ({shown or 'none'})")
    return f"model {match[0]} available"


def _listed_models(provider, body):
    try:
        data = json.loads(body.decode("utf-8"))
        if provider == "ollama":
            return [str(m["name"]) for m in data["models"]]
        if data.get("object") != "list":
            raise ValueError("object is not 'list'")
        return [str(m["id"]) for m in data["data"]]
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        endpoint = "/api/tags" if provider == "ollama" else "/v1/models"
        raise ProbeFailed(f"bad response: not the JSON a {provider} server sends at {endpoint}") from None

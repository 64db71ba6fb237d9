"""Re-send a recorded model request and compare status, latency and token counts with the original.

The stored request has no credentials; the configured model's API key is added again only when
the request goes to that model's own origin (scheme, host and port), never to another.
"""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from devkit.debug.records import load_record
from devkit.errors import UsageError

MAX_RESPONSE_BYTES = 8 * 1024 * 1024


def replay(cfg, op_id, timeout_s=None):
    """``{"op_id", "url", "original", "replay", "changes"}`` for the recorded request of ``op_id``."""
    record = load_record(cfg, op_id)
    request = record.get("request") or {}
    if urllib.parse.urlsplit(str(request.get("url", ""))).scheme not in ("http", "https"):
        raise UsageError(
            f"operation {op_id!r}: recorded url {request.get('url')!r} is not http(s); not replayed"
        )
    timeout_s = float(timeout_s or cfg.get("health", "timeout_s"))
    answer = send(request, _credentials(cfg, request.get("url", "")), timeout_s)
    original = {
        k: record.get("response", {}).get(k)
        for k in ("status", "latency_ms", "prompt_tokens", "completion_tokens")
    }
    changes = {
        k: [original[k], answer[k]]
        for k in ("status", "prompt_tokens", "completion_tokens")
        if original[k] is not None and original[k] != answer[k]
    }
    return {
        "op_id": record["op_id"],
        "url": cfg.scrub(request.get("url")),
        "original": original,
        "replay": answer,
        "changes": changes,
    }


def _origin(url):
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def _credentials(cfg, url):
    for model in cfg.models:
        key = cfg.secret(model.get("api_key"))
        if key and _origin(model["url"]) == _origin(url):
            return {"Authorization": f"Bearer {key}"}
    return {}


def send(request, extra_headers, timeout_s):
    """Send one request; return status, latency_ms, token counts read from the answer and an error."""
    body = request.get("body")
    data = body.encode("utf-8") if isinstance(body, str) else None
    headers = dict(request.get("headers") or {}, **extra_headers)
    outgoing = urllib.request.Request(
        request["url"], data=data, headers=headers, method=request.get("method")
    )
    started = time.perf_counter()
    status, payload, error = None, b"", None
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout_s) as answer:
            status, payload = answer.status, answer.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read(MAX_RESPONSE_BYTES)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    prompt, completion = usage_of(payload)
    return {
        "status": status,
        "latency_ms": latency_ms,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "error": error,
    }


def usage_of(payload):
    """``(prompt_tokens, completion_tokens)`` from an OpenAI-style ``usage`` or Ollama's eval counts."""
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    usage = doc.get("usage") if isinstance(doc.get("usage"), dict) else {}
    prompt = usage.get("prompt_tokens", doc.get("prompt_eval_count"))
    completion = usage.get("completion_tokens", doc.get("eval_count"))
    return prompt, completion

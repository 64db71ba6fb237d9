"""A small store of recorded model requests in ``<state_dir>/requests/`` (opt-in, secrets never kept).

One JSON file per operation, ``req-<UTC stamp>-<op id>.json``, written atomically; the newest
``debug.max_records`` are kept. Authorization-like headers are dropped and every configured
secret value is replaced by ``***`` before anything is written.
"""

import json
import os
import re
import time

from devkit.config.schema import is_secret_key
from devkit.errors import OperationError, UsageError
from devkit.util.fs import atomic_write
from devkit.util.names import keep_newest, timestamped_name

FOLDER = "requests"
PREFIX = "req-"
MAX_BODY_CHARS = 1024 * 1024
OP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
DROPPED_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
REQUEST_KEYS = ("method", "url", "headers", "body")
RESPONSE_KEYS = ("status", "latency_ms", "prompt_tokens", "completion_tokens", "text")


def record_request(op_id, request, response=None, config=None, now=None):
    """Keep ``request`` (method, url, headers, body) and ``response`` of operation ``op_id``; return the path.

    Returns None (and writes nothing) unless ``debug.record_requests`` is true in the config.
    """
    cfg = config if config is not None else _load()
    if not cfg.get("debug", "record_requests"):
        return None
    op_id = check_op_id(op_id)
    record = {
        "op_id": op_id,
        "ts": time.time() if now is None else now,
        "request": clean_request(request, cfg),
        "response": _pick(response or {}, RESPONSE_KEYS, cfg),
    }
    folder = os.path.join(cfg.state_dir, FOLDER)
    path = os.path.join(folder, timestamped_name(record["ts"], f"-{op_id}.json", prefix=PREFIX))
    atomic_write(path, json.dumps(record, ensure_ascii=False, indent=1), mode=0o600)
    keep_newest(folder, PREFIX, ".json", cfg.get("debug", "max_records"))
    return path


def _load():
    from devkit.config import load_config

    return load_config()


def check_op_id(op_id):
    """``op_id`` as a string when it is a safe file-name part, else UsageError."""
    text = str(op_id)
    if not OP_ID.match(text):
        raise UsageError(f"operation id {text[:40]!r}: use 1-128 letters, digits, '.', '_', ':' or '-'")
    return text


def clean_request(request, cfg):
    """The request without credential headers, its body bounded, every secret value scrubbed."""
    cleaned = _pick(request, REQUEST_KEYS, cfg)
    headers = request.get("headers") or {}
    cleaned["headers"] = {
        str(k): cfg.scrub(v)
        for k, v in headers.items()
        if str(k).lower() not in DROPPED_HEADERS and not is_secret_key(k)
    }
    body = request.get("body")
    if not isinstance(body, str) and body is not None:
        body = json.dumps(body, ensure_ascii=False)
    if body is not None and len(body) > MAX_BODY_CHARS:
        raise UsageError(f"request body: larger than {MAX_BODY_CHARS} characters; not recorded")
    cleaned["body"] = None if body is None else cfg.scrub(body)
    cleaned["method"] = str(request.get("method") or ("POST" if body is not None else "GET")).upper()
    return cleaned


def _pick(source, keys, cfg):
    return {
        k: (cfg.scrub(source[k]) if isinstance(source[k], str) else source[k]) for k in keys if k in source
    }


def load_record(cfg, op_id):
    """The newest record of ``op_id``; UsageError when there is none."""
    op_id = check_op_id(op_id)
    folder = os.path.join(cfg.state_dir, FOLDER)
    names = sorted(n for n in _names(folder) if n.endswith(f"-{op_id}.json"))
    if not names:
        raise UsageError(
            f"operation {op_id!r}: no recorded request in {folder} (is debug.record_requests on?)"
        )
    path = os.path.join(folder, names[-1])
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise OperationError(f"{path}: unreadable request record: {exc}") from None


def all_records(cfg):
    """Every readable record, oldest first."""
    folder = os.path.join(cfg.state_dir, FOLDER)
    out = []
    for name in sorted(_names(folder)):
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                out.append(json.load(handle))
        except (OSError, ValueError):
            continue
    return out


def _names(folder):
    try:
        return [n for n in os.listdir(folder) if n.startswith(PREFIX) and n.endswith(".json")]
    except FileNotFoundError:
        return []

"""The one validation of the ingest event schema (``devkit metrics ingest`` and ``POST /api/events``).

An event is a JSON object::

    {"operation": str, "model": str?, "duration_ms": number >= 0, "status": "ok"|"error",
     "prompt_tokens": int >= 0?, "completion_tokens": int >= 0?, "cache_hit": bool?,
     "error": str?, "ts": unix seconds?, "labels": {str: str}?, "id": str?, "detail": str?,
     "cached_prompt_tokens": int >= 0?, "reasoning_tokens": int >= 0?, "ttft_ms": number >= 0?, "chunks": int >= 1?}

Cached prompt and reasoning tokens are parts of the prompt and completion counts (never more than
them); ``ttft_ms`` is the time to the first streamed chunk, within ``duration_ms``.

Token counts are at most MAX_TOKENS; ``ts`` lies from 2000 to 5 minutes after now; text is valid UTF-8.
"""

import json
import math
import time

from devkit.core.records import OperationRecord
from devkit.errors import ValidationError

MAX_NAME = 200
MAX_TEXT = 2000
MAX_TOKENS = 10**12  # per operation: sums over billions of operations stay exact int64
MIN_TS = 946684800.0  # 2000-01-01: earlier is a unit mistake (or a broken clock)
MAX_FUTURE_S = 300.0
MAX_LINE_BYTES = 1 << 20
_MISSING = object()
REQUIRED = ("operation", "duration_ms", "status")
KNOWN = REQUIRED + (
    "model",
    "prompt_tokens",
    "completion_tokens",
    "cache_hit",
    "error",
    "ts",
    "labels",
    "id",
    "detail",
    "cached_prompt_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "chunks",
)


_KNOWN_SET = frozenset(KNOWN)
_LLM_KEYS = frozenset(("cached_prompt_tokens", "reasoning_tokens", "ttft_ms", "chunks"))


class EventError(ValidationError):
    """One invalid event; ``problem`` is ``field: what is wrong`` and ``lineno`` where it was (or None)."""

    def __init__(self, problem, lineno=None):
        super().__init__(problem if lineno is None else f"line {lineno}: {problem}", [problem])
        self.problem = problem
        self.lineno = lineno


def check_utf8(text):
    """True when ``text`` encodes as UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_ts(ts, now):
    """Raise ValueError unless ``ts`` (unix seconds) is from 2000 to 5 minutes after ``now``."""
    if not MIN_TS <= ts <= now + MAX_FUTURE_S:
        raise ValueError(f"ts {ts!r} is not unix seconds from 2000 to 5 minutes from now")


def _show(value):
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _fail(field, expected, value):
    raise EventError(f"{field}: expected {expected}, got {_show(value)}")


def _text(data, field, limit, required=False):
    return text_value(data.get(field), field, limit, required)


def text_value(value, field, limit, required=False):
    """``value`` checked as the text ``field`` (None when absent or empty unless ``required``); raises EventError."""
    if (
        type(value) is str
        and value.isascii()
        and 0 < len(value) <= limit
        and (not required or value[0] > " ")
    ):
        return value
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() and required or len(value) > limit:
        _fail(field, f"a {'non-empty ' if required else ''}string of at most {limit} characters", value)
    if not value.isascii() and not check_utf8(value):
        _fail(field, "valid UTF-8 text (no lone surrogates)", value)
    return value or None


def _number(data, field, default, integer=False):
    value = data.get(field)
    if value is None:
        return default
    ok = isinstance(value, int) if integer else isinstance(value, (int, float)) and _finite(value)
    if isinstance(value, bool) or not ok or value < 0 or integer and value > MAX_TOKENS:
        _fail(field, f"an integer from 0 to {MAX_TOKENS}" if integer else "a number >= 0", value)
    return value


def _finite(number):
    # An int past float's range (JSON allows 10**400) is no usable float: refused, not an OverflowError.
    try:
        return math.isfinite(number)
    except OverflowError:
        return False


def _labels(data):
    value = data.get("labels")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and check_utf8(k) and check_utf8(v)
        for k, v in value.items()
    ):
        _fail("labels", "an object of string values", value)
    return dict(value) or None


def _cache_hit(data):
    value = data.get("cache_hit")
    if value is not None and not isinstance(value, bool):
        _fail("cache_hit", "true or false", value)
    return value


def _check_fields(data):
    if not isinstance(data, dict):
        raise EventError(f"event: expected a JSON object, got {type(data).__name__}")
    for field in REQUIRED:
        if field not in data:
            raise EventError(f"{field}: required field is missing")
    for field in data:
        if field not in KNOWN:
            raise EventError(f"{field}: unknown field (known: {', '.join(KNOWN)})")


def _llm_fields(data, prompt, completion, duration_ms):
    """cached_prompt_tokens, reasoning_tokens, ttft_ms and chunks, each checked against its whole."""
    cached = _number(data, "cached_prompt_tokens", 0, integer=True)
    if cached > prompt:
        _fail("cached_prompt_tokens", f"at most prompt_tokens ({prompt})", cached)
    reasoning = _number(data, "reasoning_tokens", 0, integer=True)
    if reasoning > completion:
        _fail("reasoning_tokens", f"at most completion_tokens ({completion})", reasoning)
    ttft = _number(data, "ttft_ms", None)
    if ttft is not None and ttft > duration_ms:
        _fail("ttft_ms", f"at most duration_ms ({duration_ms})", ttft)
    chunks = _number(data, "chunks", None, integer=True)
    if chunks is not None and (chunks < 1 or ttft is None):
        _fail("chunks", "an integer >= 1 with ttft_ms", chunks)
    return {
        "cached_prompt_tokens": cached,
        "reasoning_tokens": reasoning,
        "ttft_ms": None if ttft is None else float(ttft),
        "chunks": chunks,
    }


def validate_event(data, now=None):
    """Turn one decoded event into an OperationRecord; raise EventError naming the bad field."""
    if type(data) is not dict or not _KNOWN_SET.issuperset(data) or len(data) < 3 or "operation" not in data:
        _check_fields(data)
    status = data.get("status", _MISSING)
    if status != "ok" and status != "error":
        _check_fields(data)
        _fail("status", '"ok" or "error"', status)
    now = float(time.time() if now is None else now)
    get = data.get
    ts = get("ts")
    if ts is not None:
        ts = _number(data, "ts", None)
        if not MIN_TS <= ts <= now + MAX_FUTURE_S:
            _fail("ts", "unix seconds from 2000 to 5 minutes from now", ts)
    if "duration_ms" not in data:
        _check_fields(data)
    return _record(data, get, now if ts is None else float(ts), status)


def _record(data, get, ts, status):
    # Absent optional fields cost one dict lookup each: this runs for every ingested line.
    prompt, completion = get("prompt_tokens", 0), get("completion_tokens", 0)
    record = OperationRecord(
        None if get("id") is None else _text(data, "id", MAX_NAME),
        ts,
        _text(data, "operation", MAX_NAME, required=True),
        None if get("model") is None else _text(data, "model", MAX_NAME),
        status,
        _duration(get("duration_ms"), data),
        prompt if type(prompt) is int and 0 <= prompt <= MAX_TOKENS else _tokens(data, "prompt_tokens"),
        (
            completion
            if type(completion) is int and 0 <= completion <= MAX_TOKENS
            else _tokens(data, "completion_tokens")
        ),
        None if get("cache_hit") is None else _cache_hit(data),
        0.0,
        None if get("error") is None else _text(data, "error", MAX_TEXT),
        None if get("detail") is None else _text(data, "detail", MAX_TEXT),
        None if get("labels") is None else _labels(data),
    )
    if not _LLM_KEYS.isdisjoint(data):
        fields = _llm_fields(data, record.prompt_tokens, record.completion_tokens, record.duration_ms)
        for name, value in fields.items():
            setattr(record, name, value)
    return record


def _duration(value, data):
    if type(value) is float and 0.0 <= value < math.inf:
        return value
    if value is None:
        _fail("duration_ms", "a number >= 0", value)
    return float(_number(data, "duration_ms", None))


def _tokens(data, field):
    return _number(data, field, 0, integer=True)


def parse_event(text, lineno=None, now=None):
    """Decode one JSON line and validate it; errors carry ``line N:`` when ``lineno`` is given."""
    try:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise EventError(f"json: invalid JSON: {exc}") from None
        except RecursionError:
            raise EventError("json: nested too deeply") from None
        return validate_event(data, now)
    except EventError as exc:
        if lineno is None:
            raise
        raise EventError(exc.problem, lineno) from None


def read_events(lines, now=None, first_lineno=1):
    """Yield ``(lineno, OperationRecord or EventError)`` for each non-blank line (str or UTF-8 bytes)."""
    for lineno, line in enumerate(lines, first_lineno):
        try:
            if len(line) > MAX_LINE_BYTES:
                raise EventError(f"line: longer than {MAX_LINE_BYTES} bytes", lineno)
            if isinstance(line, bytes):
                line = _decode(line, lineno)
            if line.strip():
                yield lineno, parse_event(line, lineno, now)
        except EventError as exc:
            yield lineno, exc


def _decode(line, lineno):
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError(f"encoding: not valid UTF-8 at byte {exc.start}", lineno) from None

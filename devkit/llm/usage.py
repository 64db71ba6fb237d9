"""Token usage, and the server's own timings where it reports them, read from a model response body.

Shapes: Ollama ``/api/chat``, ``/api/generate`` and ``/api/embed`` (the final ``done: true``
chunk of a stream, or the whole answer); OpenAI-compatible chat/completions and embeddings
(``usage``, also the ``stream_options.include_usage`` final chunk); llama.cpp server
(``/completion`` counts and ``timings``); vLLM (OpenAI-shaped plus its extras).
"""

import json

from devkit.errors import UsageShapeError

MAX_BODY_BYTES = 16 << 20
MAX_COUNT = 1 << 53
MAX_KEYS_SHOWN = 12
MAX_KEY_CHARS = 32
_NS_PER_S = 1e9
_MS_PER_S = 1e3
_VLLM_KEYS = ("prompt_logprobs", "prompt_token_ids", "kv_transfer_params")
TIMING_KEYS = ("total_s", "load_s", "prompt_s", "generation_s", "prompt_tokens_per_s", "output_tokens_per_s")


class Usage:
    """Token counts of one call; ``timings`` holds the server's own measurements (seconds, tokens/s).

    ``cached_prompt_tokens`` and ``reasoning_tokens`` are parts of ``prompt_tokens`` and
    ``completion_tokens`` (as OpenAI counts them), not extra tokens.
    """

    __slots__ = (
        "prompt_tokens",
        "completion_tokens",
        "cached_prompt_tokens",
        "reasoning_tokens",
        "shape",
        "timings",
    )

    def __init__(
        self,
        prompt_tokens=0,
        completion_tokens=0,
        cached_prompt_tokens=0,
        reasoning_tokens=0,
        shape="",
        timings=None,
    ):
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cached_prompt_tokens = cached_prompt_tokens
        self.reasoning_tokens = reasoning_tokens
        self.shape = shape
        self.timings = dict(timings or {})

    @property
    def total_tokens(self):
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def uncached_prompt_tokens(self):
        """Prompt tokens the server had to process (billed at the full input price)."""
        return max(self.prompt_tokens - self.cached_prompt_tokens, 0)

    def to_dict(self):
        """A JSON-ready dict of every field."""
        return {
            "shape": self.shape,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "timings": dict(self.timings),
        }

    def __eq__(self, other):
        return isinstance(other, Usage) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"Usage({self.shape}: prompt={self.prompt_tokens}, completion={self.completion_tokens})"


def parse_usage(response):
    """The Usage in ``response`` (a dict, a JSON str/bytes, a whole NDJSON/SSE stream or a list of chunks).

    Raises UsageShapeError for an unknown shape (naming its keys), a bad count, or a stream
    chunk that carries no usage.
    """
    usage = find_usage(response)
    if usage is None:
        raise UsageShapeError("response: a stream chunk without usage (only the final chunk carries it)")
    return usage


def find_usage(response):
    """Like ``parse_usage``, but None for a known stream chunk that carries no usage."""
    if isinstance(response, (bytes, bytearray, str)):
        return _from_text(response)
    if isinstance(response, list):
        return _last_usage(response)
    if not isinstance(response, dict):
        raise UsageShapeError(f"response: expected a JSON object, got {type(response).__name__}")
    return _from_dict(response)


def _from_text(body):
    if len(body) > MAX_BODY_BYTES:
        raise UsageShapeError(f"response: body larger than {MAX_BODY_BYTES} bytes")
    text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
    try:
        return find_usage(json.loads(text))
    except ValueError:
        pass
    chunks = [_stream_line(line) for line in text.splitlines()]
    chunks = [chunk for chunk in chunks if chunk is not None]
    if not chunks:
        raise UsageShapeError("response: not JSON, NDJSON or server-sent events")
    return _last_usage(chunks)


def _stream_line(line):
    """The JSON object of one NDJSON line or SSE ``data:`` line; None for other SSE lines."""
    line = line.strip()
    if line.startswith("data:"):
        line = line[5:].strip()
    if not line.startswith("{"):
        return None
    try:
        return json.loads(line)
    except ValueError:
        raise UsageShapeError(f"response: a stream line is not JSON: {line[:MAX_KEY_CHARS]!r}") from None


def _last_usage(chunks):
    for chunk in reversed(chunks):
        usage = find_usage(chunk)
        if usage is not None:
            return usage
    return None


def _from_dict(body):
    usage = body.get("usage")
    if isinstance(usage, dict) and ("prompt_tokens" in usage or "completion_tokens" in usage):
        return _openai(body, usage)
    if "usage" in body and usage is None and ("choices" in body or "object" in body):
        return None
    if "done" in body or "prompt_eval_count" in body:
        return _ollama(body)
    if "tokens_evaluated" in body or "tokens_predicted" in body or isinstance(body.get("timings"), dict):
        return _llamacpp(body)
    raise UsageShapeError(f"response: unknown usage shape; keys seen: {keys_seen(body)}")


def keys_seen(body):
    """The top-level keys of ``body``, sorted, escaped and bounded in number and length."""
    keys = sorted(str(k) for k in body)
    shown = [repr(k[:MAX_KEY_CHARS])[1:-1] for k in keys[:MAX_KEYS_SHOWN]]
    more = f" (+{len(keys) - MAX_KEYS_SHOWN} more)" if len(keys) > MAX_KEYS_SHOWN else ""
    return (", ".join(shown) or "(none)") + more


def _openai(body, usage):
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cached = _count(prompt_details, "cached_tokens", "usage.prompt_tokens_details")
    timings = body.get("timings") if isinstance(body.get("timings"), dict) else None
    if timings is not None and not cached:
        cached = _count(timings, "cache_n", "timings")
    return Usage(
        prompt_tokens=_count(usage, "prompt_tokens", "usage"),
        completion_tokens=_count(usage, "completion_tokens", "usage"),
        cached_prompt_tokens=cached,
        reasoning_tokens=_count(completion_details, "reasoning_tokens", "usage.completion_tokens_details"),
        shape="llamacpp" if timings is not None else "vllm" if _is_vllm(body) else "openai",
        timings=_llamacpp_timings(timings) if timings is not None else None,
    )


def _is_vllm(body):
    if any(key in body for key in _VLLM_KEYS):
        return True
    choices = body.get("choices")
    return isinstance(choices, list) and any(isinstance(c, dict) and "stop_reason" in c for c in choices)


def _ollama(body):
    if body.get("done") is False:
        return None
    prompt = _count(body, "prompt_eval_count", "response")
    completion = _count(body, "eval_count", "response")
    timings = {}
    for key, name in (
        ("total_s", "total_duration"),
        ("load_s", "load_duration"),
        ("prompt_s", "prompt_eval_duration"),
        ("generation_s", "eval_duration"),
    ):
        if body.get(name) is not None:
            timings[key] = _count(body, name, "response") / _NS_PER_S
    _add_rate(timings, "prompt_tokens_per_s", prompt, timings.get("prompt_s"))
    _add_rate(timings, "output_tokens_per_s", completion, timings.get("generation_s"))
    return Usage(prompt, completion, shape="ollama", timings=timings)


def _add_rate(timings, key, tokens, seconds):
    if tokens and seconds:
        timings[key] = tokens / seconds


def _llamacpp(body):
    timings = body.get("timings") if isinstance(body.get("timings"), dict) else {}
    cached = _count(timings, "cache_n", "timings")
    if "tokens_evaluated" in body or "tokens_predicted" in body:
        prompt = _count(body, "tokens_evaluated", "response")
        completion = _count(body, "tokens_predicted", "response")
    else:
        # prompt_n counts only the prompt tokens processed now; the cached ones come on top.
        prompt = _count(timings, "prompt_n", "timings") + cached
        completion = _count(timings, "predicted_n", "timings")
    return Usage(prompt, completion, cached, shape="llamacpp", timings=_llamacpp_timings(timings))


def _llamacpp_timings(timings):
    out = {}
    for key, name, scale in (
        ("prompt_s", "prompt_ms", _MS_PER_S),
        ("generation_s", "predicted_ms", _MS_PER_S),
        ("prompt_tokens_per_s", "prompt_per_second", 1.0),
        ("output_tokens_per_s", "predicted_per_second", 1.0),
    ):
        value = timings.get(name)
        if value is not None:
            out[key] = _number(value, f"timings.{name}") / scale
    return out


def _count(table, key, where):
    """A whole number >= 0 at ``table[key]``; 0 when absent or null."""
    value = table.get(key) if isinstance(table, dict) else None
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise UsageShapeError(
            f"{where}.{key}: expected a whole number >= 0, got {str(value)[:MAX_KEY_CHARS]!r}"
        )
    return value


def _number(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise UsageShapeError(f"{where}: expected a number >= 0, got {str(value)[:MAX_KEY_CHARS]!r}")
    return float(value)

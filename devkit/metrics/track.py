"""``track()``: time one operation and record its outcome, tokens and cache use.

The hot path only stamps two clocks and appends the finished Operation to the
recorder's queue; ids, cost and the OperationRecord are built at flush time.
"""

import functools
import json
import math
import time

from devkit.core.events import MAX_TOKENS, check_ts, check_utf8
from devkit.errors import UsageError
from devkit.metrics import recorder as _recorder

_perf = time.perf_counter
_wall = time.time
_RECORDER = _recorder.RECORDER
_QUEUE = _RECORDER.queue
_WAKE_AT = _recorder.WAKE_AT
_MAX_DETAIL = 200


class Operation:
    """One tracked operation: a context manager (``with track(...) as op``) and a decorator."""

    __slots__ = ("operation", "model", "labels", "ts", "_t0", "duration_s", "error",
                 "prompt_tokens", "completion_tokens", "cache_hit", "detail_text")  # fmt: skip

    def __init__(self, operation, model=None, labels=None):
        self.operation = operation
        self.model = model
        self.labels = labels
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cache_hit = None
        self.detail_text = None
        self.error = None

    def __enter__(self):
        self.ts = _wall()
        self._t0 = _perf()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.duration_s = _perf() - self._t0
        if exc_type is not None:
            self.error = exc_type.__name__
        _QUEUE.append(self)
        if len(_QUEUE) > _WAKE_AT:
            _RECORDER.pressure()
        if not _RECORDER.running:
            _RECORDER.start()
        return False

    def __call__(self, func):
        """Decorate ``func`` so that each call is tracked as its own operation."""
        operation, model, labels = self.operation, self.model, self.labels

        @functools.wraps(func)
        def tracked(*args, **kwargs):
            with Operation(operation, model, labels):
                return func(*args, **kwargs)

        return tracked

    def tokens(self, prompt=0, completion=0):
        """Add prompt and completion token counts (integers, 0 to 10**12 per operation)."""
        prompt_total, completion_total = self.prompt_tokens + prompt, self.completion_tokens + completion
        if not (type(prompt) is int and type(completion) is int and prompt >= 0 and completion >= 0
                and prompt_total <= MAX_TOKENS and completion_total <= MAX_TOKENS):  # fmt: skip
            raise UsageError(f"track {self.operation}: tokens must be integers from 0 to {MAX_TOKENS} per"
                             f" operation, got {prompt!r}, {completion!r}")  # fmt: skip
        self.prompt_tokens, self.completion_tokens = prompt_total, completion_total
        return self

    def cache(self, hit=True):
        """Mark the operation as a cache hit (``hit=True``) or miss (``hit=False``)."""
        self.cache_hit = bool(hit)
        return self

    def detail(self, text):
        """Attach a short free-text detail (cut to 200 characters)."""
        self.detail_text = None if text is None else _checked_text("detail", str(text)[:_MAX_DETAIL])
        return self

    def row(self, op_id, cost_of, now):
        """The store row of the finished operation (cost from ``cost_of``); raises when it cannot be kept."""
        check_ts(self.ts, now)
        duration_ms = self.duration_s * 1000.0
        prompt, completion = self.prompt_tokens, self.completion_tokens
        cost = float(cost_of(self.model, prompt, completion)) if prompt or completion else 0.0
        if not math.isfinite(cost):
            raise ValueError(f"cost of {self.model!r} is not finite")
        cache = None if self.cache_hit is None else int(self.cache_hit)
        labels = json.dumps(self.labels, sort_keys=True) if self.labels else None
        return (op_id, self.ts, self.operation, self.model, "error" if self.error else "ok", duration_ms,
                prompt, completion, cache, cost, self.error, self.detail_text, labels)  # fmt: skip


def track(operation, model=None, **labels):
    """Track one operation: ``with track("chat", model="llama3") as op: op.tokens(prompt=5)``.

    Also a decorator (``@track("embed")``). An exception inside marks the
    operation ``error`` with its type name and propagates unchanged.
    """
    if (
        not isinstance(operation, str)
        or not operation
        or not operation.isascii()
        and not check_utf8(operation)
    ):
        raise UsageError(f"track: operation must be a non-empty UTF-8 string, got {operation!r}")
    if model is not None and (not isinstance(model, str) or not model.isascii() and not check_utf8(model)):
        raise UsageError(f"track {operation}: model must be a UTF-8 string or None, got {model!r}")
    if labels:
        labels = {_checked_text("label", k): _checked_text("label", str(v)) for k, v in labels.items()}
    return Operation(operation, model, labels or None)


def _checked_text(what, text):
    if not text.isascii() and not check_utf8(text):
        raise UsageError(f"track: {what} is not valid UTF-8 text: {text!r}")
    return text

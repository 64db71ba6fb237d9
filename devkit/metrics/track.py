"""``track()``: time one operation and record its outcome, tokens and cache use.

The hot path only stamps two clocks and appends the finished Operation to the
recorder's queue; ids, cost and the OperationRecord are built at flush time.
"""

import functools
import time

from devkit.core.records import OperationRecord
from devkit.errors import UsageError
from devkit.metrics import recorder as _recorder

_perf = time.perf_counter
_wall = time.time
_QUEUE = _recorder.RECORDER.queue
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
        if not _recorder.RECORDER.running:
            _recorder.RECORDER.start()
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
        """Add prompt and completion token counts (non-negative integers)."""
        if not (isinstance(prompt, int) and isinstance(completion, int) and prompt >= 0 and completion >= 0):
            raise UsageError(
                f"track {self.operation}: tokens must be integers >= 0, got {prompt!r}, {completion!r}"
            )
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        return self

    def cache(self, hit=True):
        """Mark the operation as a cache hit (``hit=True``) or miss (``hit=False``)."""
        self.cache_hit = bool(hit)
        return self

    def detail(self, text):
        """Attach a short free-text detail (cut to 200 characters)."""
        self.detail_text = None if text is None else str(text)[:_MAX_DETAIL]
        return self

    def to_record(self, op_id, cost):
        """The finished operation as an OperationRecord with the given id and cost."""
        return OperationRecord(op_id, self.ts, self.operation, self.model, "error" if self.error else "ok",
                               self.duration_s * 1000.0, self.prompt_tokens, self.completion_tokens,
                               self.cache_hit, cost, self.error, self.detail_text, self.labels)  # fmt: skip


def track(operation, model=None, **labels):
    """Track one operation: ``with track("chat", model="llama3") as op: op.tokens(prompt=5)``.

    Also a decorator (``@track("embed")``). An exception inside marks the
    operation ``error`` with its type name and propagates unchanged.
    """
    if not isinstance(operation, str) or not operation:
        raise UsageError(f"track: operation must be a non-empty string, got {operation!r}")
    return Operation(operation, model, {k: str(v) for k, v in labels.items()} if labels else None)

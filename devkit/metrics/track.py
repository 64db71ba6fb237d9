"""``track()``: time one operation and record its outcome, tokens, cache use and streaming timings.

The hot path only stamps two clocks and appends the finished operation to the recorder's
queue, as one tuple of atomic fields (``fold.PLAIN``) when it has no labels, cache use, detail,
error or later chunks, else as the Operation itself; cost, the store row and the fold happen on the
flusher.
"""

import functools
import json
import time

from devkit.core.events import MAX_TOKENS, check_utf8
from devkit.core.rollup import stream_values
from devkit.errors import UsageError
from devkit.metrics import recorder as _recorder
from devkit.metrics.fold import NO_TTFT as _NO_TTFT

_perf = time.perf_counter
_wall = time.time
_RECORDER = _recorder.RECORDER
_QUEUE = _RECORDER.queue
_RARE = _RECORDER.rare
_WAKE_AT = _recorder.WAKE_AT
_MAX_DETAIL = 200
# (operation, model) pairs already checked: validation runs once per distinct value, not per call.
_CHECKED = set()
_MAX_CHECKED = 10_000


class Operation:
    """One tracked operation: a context manager (``with track(...) as op``) and a decorator."""

    __slots__ = (
        "operation",
        "model",
        "labels",
        "ts",
        "_t0",
        "duration_s",
        "error",
        "prompt_tokens",
        "completion_tokens",
        "cache_hit",
        "detail_text",
        "t_first",
        "llm",
        "rare",
    )

    def __init__(self, operation, model=None, labels=None):
        self.operation = operation
        self.model = model
        self.labels = labels
        self.prompt_tokens = self.completion_tokens = 0
        self.cache_hit = self.detail_text = self.error = self.t_first = self.llm = None
        # Anything beyond timings and tokens sends the operation down the one-by-one fold.
        self.rare = labels

    def __enter__(self):
        self.ts = _wall()
        self._t0 = _perf()
        return self

    def __exit__(self, exc_type, exc, tb):
        t0 = self._t0
        seconds = self.duration_s = _perf() - t0
        if self.rare is None and exc_type is None:
            t_first = self.t_first
            _QUEUE.append(
                (
                    self.ts,
                    seconds,
                    self.operation,
                    self.model,
                    self.prompt_tokens,
                    self.completion_tokens,
                    _NO_TTFT if t_first is None else t_first - t0,
                )
            )
            if len(_QUEUE) > _WAKE_AT:
                _RECORDER.pressure()
        else:
            self._queue_rare(exc_type)
        if not _RECORDER.running:
            _RECORDER.start()
        return False

    def _queue_rare(self, exc_type):
        if exc_type is not None:
            self.error = exc_type.__name__
        _RARE.append(self)
        if len(_RARE) > _WAKE_AT:
            _RECORDER.pressure()

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
        if not (
            type(prompt) is int
            and type(completion) is int
            and prompt >= 0
            and completion >= 0
            and prompt_total <= MAX_TOKENS
            and completion_total <= MAX_TOKENS
        ):
            raise UsageError(
                f"track {self.operation}: tokens must be integers from 0 to {MAX_TOKENS} per"
                f" operation, got {prompt!r}, {completion!r}"
            )
        self.prompt_tokens, self.completion_tokens = prompt_total, completion_total
        return self

    def first_token(self):
        """Mark the arrival of the first streamed chunk (time to first token); later calls are ignored."""
        if self.t_first is None:
            self.t_first = _perf()
        return self

    def chunk(self):
        """Mark the arrival of one more streamed chunk (the first one counts as ``first_token()``)."""
        now = _perf()
        if self.t_first is None:
            self.t_first = now
            return self
        # [cached prompt tokens, reasoning tokens, chunks after the first, arrival of the last]
        self.rare = True
        llm = self.llm
        if llm is None:
            self.llm = [0, 0, 1, now]
        else:
            llm[2] += 1
            llm[3] = now
        return self

    def stream(self, chunks):
        """Yield every item of ``chunks`` (a streamed response), marking each one's arrival."""
        mark = self.chunk
        for item in chunks:
            mark()
            yield item

    def usage(self, response):
        """Record the tokens of a model ``response`` (body, stream or chunks; see devkit.llm.parse_usage).

        Prompt, completion, cached prompt and reasoning tokens are added; returns the Usage read.
        """
        from devkit.llm.usage import find_usage, parse_usage

        found = find_usage(response) if isinstance(response, list) else parse_usage(response)
        if found is None:
            raise UsageError(f"track {self.operation}: no chunk of the stream carries usage")
        self.tokens(prompt=found.prompt_tokens, completion=found.completion_tokens)
        self.rare = True
        llm = self.llm
        if llm is None:
            llm = self.llm = [0, 0, 0, 0.0]
        llm[0] = min(llm[0] + found.cached_prompt_tokens, self.prompt_tokens)
        llm[1] = min(llm[1] + found.reasoning_tokens, self.completion_tokens)
        return found

    def cache(self, hit=True):
        """Mark the operation as a cache hit (``hit=True``) or miss (``hit=False``)."""
        self.cache_hit = bool(hit)
        self.rare = True
        return self

    def detail(self, text):
        """Attach a short free-text detail (cut to 200 characters)."""
        self.detail_text = None if text is None else _checked_text("detail", str(text)[:_MAX_DETAIL])
        self.rare = True
        return self

    def streaming(self):
        """(ttft_s, seconds per chunk after the first, output tokens/s, chunks) once a chunk arrived, else None."""
        t_first = self.t_first
        if t_first is None:
            return None
        llm = self.llm
        later = 0 if llm is None else llm[2]
        # Without later chunks marked, generation is taken to last until the block ends.
        end = llm[3] if later else self._t0 + self.duration_s
        return stream_values(t_first - self._t0, end - t_first, later + 1, self.completion_tokens) + (
            later + 1,
        )

    def row(self, cost, status):
        """The store row of the finished operation (no id: the store shows ``#<seq>``); raises when its
        labels cannot be kept."""
        cache = None if self.cache_hit is None else int(self.cache_hit)
        labels = json.dumps(self.labels, sort_keys=True) if self.labels else None
        llm = self.llm
        cached, reasoning = (llm[0], llm[1]) if llm is not None else (0, 0)
        stream = self.streaming()
        ttft_ms, chunks = (stream[0] * 1000.0, stream[3]) if stream is not None else (None, None)
        return (
            None,
            self.ts,
            self.operation,
            self.model,
            status,
            self.duration_s * 1000.0,
            self.prompt_tokens,
            self.completion_tokens,
            cache,
            cost,
            self.error,
            self.detail_text,
            labels,
            cached,
            reasoning,
            ttft_ms,
            chunks,
        )


def track(operation, model=None, **labels):
    """Track one operation: ``with track("chat", model="llama3") as op: op.tokens(prompt=5)``.

    Also a decorator (``@track("embed")``). An exception inside marks the
    operation ``error`` with its type name and propagates unchanged.
    """
    try:
        known = (operation, model) in _CHECKED
    except TypeError:  # an unhashable model: _check_names says what is wrong
        known = False
    if not known:
        _check_names(operation, model)
    if labels:
        labels = {_checked_text("label", k): _checked_text("label", str(v)) for k, v in labels.items()}
        return Operation(operation, model, labels)
    return Operation(operation, model)


def _check_names(operation, model):
    if (
        not isinstance(operation, str)
        or not operation
        or not operation.isascii()
        and not check_utf8(operation)
    ):
        raise UsageError(f"track: operation must be a non-empty UTF-8 string, got {operation!r}")
    if model is not None and (not isinstance(model, str) or not model.isascii() and not check_utf8(model)):
        raise UsageError(f"track {operation}: model must be a UTF-8 string or None, got {model!r}")
    if len(_CHECKED) >= _MAX_CHECKED:
        _CHECKED.clear()
    _CHECKED.add((operation, model))


def _checked_text(what, text):
    if not text.isascii() and not check_utf8(text):
        raise UsageError(f"track: {what} is not valid UTF-8 text: {text!r}")
    return text

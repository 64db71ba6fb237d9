"""Plain data shapes that cross layers: one operation, one instrument delta, a batch.

The in-process recorder produces them, ``devkit metrics ingest`` and
``POST /api/events`` build them from JSON, and the store consumes them.
"""

OPERATION_FIELDS = (
    "id",
    "ts",
    "operation",
    "model",
    "status",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "cache_hit",
    "cost",
    "error",
    "detail",
    "labels",
    "cached_prompt_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "chunks",
)
# The fields a store row of aggregates sums (beside count and latency): totals add them up per series.
SUM_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "cache_hits",
    "cache_misses",
    "cached_prompt_tokens",
    "reasoning_tokens",
)


class OperationRecord:
    """One finished operation; ``cache_hit`` is None when not a cache operation.

    ``cached_prompt_tokens``/``reasoning_tokens`` are parts of the prompt/completion counts; ``ttft_ms``
    (time to the first streamed chunk) and ``chunks`` (streamed chunks) are None when not streamed.
    """

    __slots__ = OPERATION_FIELDS

    def __init__(
        self,
        id,
        ts,
        operation,
        model=None,
        status="ok",
        duration_ms=0.0,
        prompt_tokens=0,
        completion_tokens=0,
        cache_hit=None,
        cost=0.0,
        error=None,
        detail=None,
        labels=None,
        cached_prompt_tokens=0,
        reasoning_tokens=0,
        ttft_ms=None,
        chunks=None,
    ):
        self.id = id
        self.ts = ts
        self.operation = operation
        self.model = model
        self.status = status
        self.duration_ms = duration_ms
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cache_hit = cache_hit
        self.cost = cost
        self.error = error
        self.detail = detail
        self.labels = labels
        self.cached_prompt_tokens = cached_prompt_tokens
        self.reasoning_tokens = reasoning_tokens
        self.ttft_ms = ttft_ms
        self.chunks = chunks

    def to_dict(self):
        """All fields as a JSON-ready dict."""
        return {name: getattr(self, name) for name in OPERATION_FIELDS}

    def __repr__(self):
        return f"OperationRecord({self.operation!r}, {self.status!r}, {self.duration_ms}ms)"


class InstrumentDelta:
    """What one user instrument series changed since the last flush.

    ``kind`` is counter (value is the increment), gauge (value is the last
    value) or histogram (``sketch`` holds the new observations).
    """

    __slots__ = ("name", "kind", "help", "labels", "value", "sketch")

    def __init__(self, name, kind, help, labels, value=0.0, sketch=None):
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.value = value
        self.sketch = sketch


class Batch:
    """Everything one flush writes in one transaction.

    ``operations`` are OperationRecords the writer folds itself (ingest); the recorder hands over
    ``aggregates`` already folded at 10 s ({(bucket, operation, model, status): Aggregate}) and raw
    ``rows`` (store column tuples) and ``plain`` rows (``(ts, operation, model, status, duration_ms,
    prompt_tokens, completion_tokens, cost)``: the columns most operations fill) and ``streamed`` rows
    (the same plus ``ttft_ms, chunks``), plus how many raw rows it ``not_kept`` and bad records it
    ``dropped``.
    """

    __slots__ = (
        "operations",
        "instruments",
        "aggregates",
        "rows",
        "not_kept",
        "dropped",
        "plain",
        "streamed",
    )

    def __init__(
        self,
        operations=(),
        instruments=(),
        aggregates=None,
        rows=(),
        not_kept=0,
        dropped=0,
        plain=(),
        streamed=(),
    ):
        self.operations = list(operations)
        self.instruments = list(instruments)
        self.aggregates = aggregates or {}
        self.rows = list(rows)
        self.not_kept = not_kept
        self.dropped = dropped
        self.plain = list(plain)
        self.streamed = list(streamed)

    def __bool__(self):
        return bool(
            self.operations
            or self.instruments
            or self.aggregates
            or self.rows
            or self.plain
            or self.streamed
            or self.not_kept
            or self.dropped
        )


def full_row(plain):
    """The 17-column store row (as ``Operation.row()`` makes, no id) of one of a Batch's ``plain`` or
    ``streamed`` rows."""
    ts, operation, model, status, millis, prompt, completion, cost = plain[:8]
    ttft_ms, chunks = plain[8:] or (None, None)
    return (
        None,
        ts,
        operation,
        model,
        status,
        millis,
        prompt,
        completion,
        None,
        cost,
        None,
        None,
        None,
        0,
        0,
        ttft_ms,
        chunks,
    )

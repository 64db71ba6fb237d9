"""Import JSON-lines events into the store: good lines written in batches, bad lines reported."""

from devkit.core.events import MAX_LINE_BYTES, EventError, read_events
from devkit.core.records import Batch

BATCH_SIZE = 5000
MAX_KEPT_ERRORS = 1000


def bounded_lines(handle, limit=MAX_LINE_BYTES):
    """Lines of a binary ``handle``; a line longer than ``limit`` comes as its first ``limit + 1`` bytes
    (the rest is skipped unread into memory), so it is reported instead of filling memory."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = handle.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line


def ingest(store, open_lines, strict=False, now=None, on_error=None, replayable=True):
    """Validate and write events from ``open_lines()``; returns {ingested, rejected, errors}.

    With ``strict`` nothing is written when any line is bad: a replayable source is read twice
    (flat memory), any other is held in memory. ``on_error(lineno, problem)`` sees each bad line.
    """
    result = {"ingested": 0, "rejected": 0, "errors": [], "spills_taken": 0}
    if strict:
        records = _validate_all(open_lines(), now, result, on_error, keep=not replayable)
        if result["rejected"]:
            return result
        source = iter(records) if records is not None else _good_only(open_lines(), now)
    else:
        source = _good_only(open_lines(), now, result, on_error)
    pending = []
    for record in source:
        pending.append(record)
        if len(pending) >= BATCH_SIZE:
            result["ingested"] += _flush(store, pending)
    result["ingested"] += _flush(store, pending)
    result["spills_taken"] = store.take_spills()
    return result


def _flush(store, pending):
    count = len(pending)
    if count:
        store.write_batch(Batch(pending))
        del pending[:]
    return count


def _note(result, lineno, error, on_error):
    result["rejected"] += 1
    if len(result["errors"]) < MAX_KEPT_ERRORS:
        result["errors"].append({"line": lineno, "message": error.problem})
    if on_error is not None:
        on_error(lineno, error.problem)


def _good_only(lines, now, result=None, on_error=None):
    for lineno, item in read_events(lines, now):
        if isinstance(item, EventError):
            if result is not None:
                _note(result, lineno, item, on_error)
        else:
            yield item


def _validate_all(lines, now, result, on_error, keep):
    records = [] if keep else None
    for lineno, item in read_events(lines, now):
        if isinstance(item, EventError):
            _note(result, lineno, item, on_error)
        elif keep and not result["rejected"]:
            records.append(item)
    return records

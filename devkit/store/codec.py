"""Conversions between Python values and store rows: sketches as packed blobs, operations as tuples."""

import json
import sys
from array import array

from devkit.core.records import OPERATION_FIELDS
from devkit.core.sketch import Sketch

_BIG_ENDIAN = sys.byteorder == "big"


def pack_slots(pairs):
    """Pack ``(slot, count)`` pairs (sorted by slot) as little-endian int64 values."""
    flat = array("q", [value for pair in pairs for value in pair])
    if _BIG_ENDIAN:
        flat.byteswap()
    return flat.tobytes()


def unpack_slots(blob):
    """The flat int64 array of a packed blob: slot, count, slot, count, ..."""
    flat = array("q")
    if blob:
        flat.frombytes(blob)
        if _BIG_ENDIAN:
            flat.byteswap()
    return flat


def pack_counts(sketch):
    """A Sketch's non-empty buckets as a packed blob."""
    return pack_slots(sketch.nonzero())


def merge_blobs(old, new):
    """The packed sum of two packed blobs (an SQL function used by the aggregate upsert)."""
    counts = {}
    for blob in (old, new):
        flat = unpack_slots(blob)
        for i in range(0, len(flat), 2):
            counts[flat[i]] = counts.get(flat[i], 0) + flat[i + 1]
    return pack_slots(sorted(counts.items()))


def add_packed(sketch, blob):
    """Add the bucket counts of a packed blob into ``sketch.counts`` (count/sum/min/max untouched)."""
    flat = unpack_slots(blob)
    counts = sketch.counts
    for i in range(0, len(flat), 2):
        counts[flat[i]] += flat[i + 1]


def merge_row(sketch, blob, count, total, low, high):
    """Merge one stored sketch (blob plus exact fields) into ``sketch``."""
    if not count:
        return sketch
    add_packed(sketch, blob)
    sketch.count += count
    sketch.sum += total
    sketch.min = min(sketch.min, low)
    sketch.max = max(sketch.max, high)
    return sketch


def sketch_from_row(blob, count, total, low, high):
    """A new Sketch from a stored blob and its exact fields."""
    return merge_row(Sketch(), blob, count, total, low, high)


def operation_row(record, cost):
    """The ``operations`` row (without seq and epoch) of an OperationRecord (id None when it came without)."""
    cache = record.cache_hit
    labels = record.labels
    return (record.id, float(record.ts), record.operation, record.model or None, record.status,
            float(record.duration_ms), int(record.prompt_tokens or 0), int(record.completion_tokens or 0),
            None if cache is None else int(bool(cache)), float(cost), record.error, record.detail,
            json.dumps(labels, sort_keys=True) if labels else None, int(record.cached_prompt_tokens or 0),
            int(record.reasoning_tokens or 0), record.ttft_ms, record.chunks)  # fmt: skip


def operation_dict(row):
    """An operation dict (OperationRecord.to_dict() fields) from a row selected with ``reader.op_columns``."""
    op = dict(zip(OPERATION_FIELDS, row))
    if op["cache_hit"] is not None:
        op["cache_hit"] = bool(op["cache_hit"])
    if op["labels"]:
        op["labels"] = json.loads(op["labels"])
    return op

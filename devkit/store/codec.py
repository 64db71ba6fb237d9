"""Conversions between Python values and store rows: sketches as packed blobs, operations as tuples."""

import json
import sys
from array import array
from itertools import accumulate, repeat
from operator import add, sub

from devkit.core.records import OPERATION_FIELDS
from devkit.core.sketch import Sketch

_BIG_ENDIAN = sys.byteorder == "big"
# Compact blobs start with these two bytes; a legacy blob (int64 pairs) never does: its first slot is
# below 2048 (sketch.BUCKETS), so its second byte is at most 7.
COMPACT_MAGIC = b"\xff\xff"
# array typecode of each unsigned width in bytes ("L" is 8 bytes on some platforms, 4 on others).
_TYPECODES = {array(code).itemsize: code for code in "LBHIQ"}
_NARROW = COMPACT_MAGIC + b"\x11"


def pack_slots(pairs):
    """Pack ``(slot, count)`` pairs (sorted by slot) as a blob: compact (docs/ARCHITECTURE.md, "Sketch
    blobs") when slots never fall and counts are >= 0, else legacy little-endian int64 pairs."""
    columns = tuple(zip(*pairs))
    return pack_columns(*columns) if columns else b""


def pack_columns(slots, counts):
    """pack_slots of the pairs ``zip(slots, counts)``."""
    if not slots:
        return b""
    deltas = list(map(sub, slots[1:], slots))
    try:
        # The usual blob (slots < 65536, steps and counts < 256) in three C calls; bytes() refuses any other.
        return b"".join((_NARROW, slots[0].to_bytes(2, "little"), bytes(deltas), bytes(counts)))
    except (ValueError, OverflowError):
        pass
    if (deltas and min(deltas) < 0) or not 0 <= slots[0] <= 0xFFFF or min(counts) < 0 or max(counts) >> 64:
        return _pack_legacy(slots, counts)
    widths = _width(max(deltas, default=0)) << 4 | _width(max(counts))
    parts = (
        COMPACT_MAGIC,
        bytes((widths,)),
        _packed([slots[0]], 2),
        _packed(deltas, widths >> 4),
        _packed(counts, widths & 15),
    )
    return b"".join(parts)


def unpack_pairs(blob):
    """``(slots, counts)`` of a blob in either format (empty lists for an empty or NULL blob)."""
    if not blob:
        return [], []
    if blob[:2] != COMPACT_MAGIC:
        flat = _unpacked(blob, "q")
        return flat[0::2], flat[1::2]
    delta_width, count_width = blob[2] >> 4, blob[2] & 15
    pairs = (len(blob) - 5 + delta_width) // (delta_width + count_width)
    split = 5 + (pairs - 1) * delta_width
    first = _unpacked(blob[3:5], _TYPECODES[2])[0]
    slots = list(accumulate(_unpacked(blob[5:split], _TYPECODES[delta_width]), initial=first))
    return slots, _unpacked(blob[split:], _TYPECODES[count_width])


def _width(value):
    return 1 if value < 1 << 8 else 2 if value < 1 << 16 else 4 if value < 1 << 32 else 8


def _packed(values, width):
    flat = array(_TYPECODES[width], values)
    if _BIG_ENDIAN:
        flat.byteswap()
    return flat.tobytes()


def _unpacked(data, typecode):
    flat = array(typecode)
    flat.frombytes(data)
    if _BIG_ENDIAN:
        flat.byteswap()
    return flat.tolist()


def _pack_legacy(slots, counts):
    flat = array("q", [value for pair in zip(slots, counts) for value in pair])
    if _BIG_ENDIAN:
        flat.byteswap()
    return flat.tobytes()


def pack_counts(sketch):
    """A Sketch's non-empty buckets as a packed blob."""
    return pack_slots(sketch.nonzero())


def merge_blobs(old, new):
    """The packed sum of two packed blobs (an SQL function used by the aggregate upsert)."""
    slots, counts = unpack_pairs(old)
    merged = _summed(slots, counts)
    extra = _summed(*unpack_pairs(new))
    merged.update(zip(extra, list(map(add, map(merged.get, extra, repeat(0)), extra.values()))))
    if len(merged) != len(slots):
        slots = sorted(merged)
    return pack_columns(slots, list(map(merged.__getitem__, slots)))


def _summed(slots, counts):
    """{slot: count}; a slot listed twice (no devkit writes that) has its counts added up."""
    out = dict(zip(slots, counts))
    if len(out) != len(slots):
        out = {}
        for slot, count in zip(slots, counts):
            out[slot] = out.get(slot, 0) + count
    return out


def add_packed(sketch, blob):
    """Add the bucket counts of a packed blob into ``sketch.counts`` (count/sum/min/max untouched)."""
    counts = sketch.counts
    for slot, count in zip(*unpack_pairs(blob)):
        counts[slot] += count


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
    return (
        record.id,
        float(record.ts),
        record.operation,
        record.model or None,
        record.status,
        float(record.duration_ms),
        int(record.prompt_tokens or 0),
        int(record.completion_tokens or 0),
        None if cache is None else int(bool(cache)),
        float(cost),
        record.error,
        record.detail,
        json.dumps(labels, sort_keys=True) if labels else None,
        int(record.cached_prompt_tokens or 0),
        int(record.reasoning_tokens or 0),
        record.ttft_ms,
        record.chunks,
    )


def operation_dict(row):
    """An operation dict (OperationRecord.to_dict() fields) from a row selected with ``reader.op_columns``."""
    op = dict(zip(OPERATION_FIELDS, row))
    if op["cache_hit"] is not None:
        op["cache_hit"] = bool(op["cache_hit"])
    if op["labels"]:
        op["labels"] = json.loads(op["labels"])
    return op

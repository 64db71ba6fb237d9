"""Sketch blobs: the compact format round-trips, stays small, and legacy int64 blobs are still read."""

import random
import struct

import pytest

from devkit.core.sketch import BUCKETS, Sketch
from devkit.store.codec import (
    COMPACT_MAGIC,
    add_packed,
    merge_blobs,
    pack_counts,
    pack_slots,
    sketch_from_row,
    unpack_pairs,
)


def legacy(pairs):
    """A blob as devkit wrote it before the compact format: little-endian int64 slot, count pairs."""
    return b"".join(struct.pack("<qq", slot, count) for slot, count in pairs)


def _pairs(rng, size, top):
    slots = sorted(rng.sample(range(BUCKETS), size))
    return [(slot, rng.randint(1, top)) for slot in slots]


@pytest.mark.parametrize("top", [1, 255, 256, 65535, 65536, 2**32, 2**63 - 1])
@pytest.mark.parametrize("size", [1, 2, 12, 600])
def test_compact_blobs_round_trip_any_width(size, top):
    pairs = _pairs(random.Random(size * 7 + top), size, top)
    blob = pack_slots(pairs)
    assert blob.startswith(COMPACT_MAGIC)
    assert unpack_pairs(blob) == ([s for s, _ in pairs], [c for _, c in pairs])


def test_an_empty_blob_is_empty_in_both_directions():
    assert pack_slots([]) == b"" and unpack_pairs(b"") == ([], []) and unpack_pairs(None) == ([], [])


def test_a_typical_minute_sketch_is_a_sixth_of_its_legacy_size():
    pairs = [(900 + 7 * i, 1) for i in range(10)]
    assert len(pack_slots(pairs)) == 2 + 1 + 2 + 9 + 10
    assert len(legacy(pairs)) == 160


def test_pairs_the_compact_format_cannot_hold_are_written_legacy_and_read_back():
    for pairs in ([(5, 1), (3, 2)], [(1, -4)], [(70000, 1)]):
        blob = pack_slots(pairs)
        assert blob == legacy(pairs)
        assert unpack_pairs(blob) == ([s for s, _ in pairs], [c for _, c in pairs])


def test_legacy_blobs_read_merge_and_fill_sketches_like_compact_ones():
    rng = random.Random(3)
    old, new = _pairs(rng, 40, 900), _pairs(rng, 25, 70000)
    expected = {}
    for slot, count in old + new:
        expected[slot] = expected.get(slot, 0) + count
    want = (sorted(expected), [expected[s] for s in sorted(expected)])
    for a, b in ((legacy(old), legacy(new)), (legacy(old), pack_slots(new)), (pack_slots(old), legacy(new))):
        merged = merge_blobs(a, b)
        assert merged.startswith(COMPACT_MAGIC) and unpack_pairs(merged) == want
    from_legacy, from_compact = Sketch(), Sketch()
    add_packed(from_legacy, legacy(old))
    add_packed(from_compact, pack_slots(old))
    assert list(from_legacy.counts) == list(from_compact.counts) and sum(from_legacy.counts) == sum(
        c for _, c in old
    )


def test_a_slot_listed_twice_is_added_up_when_merged():
    merged = merge_blobs(legacy([(4, 1), (4, 2), (9, 1)]), pack_slots([(4, 5), (4, 6)]))
    assert unpack_pairs(merged) == ([4, 9], [14, 1])


def test_a_sketch_survives_the_blob_with_its_quantiles():
    sketch = Sketch()
    for value in [0.0, 1e-9, 0.004, 0.25, 0.25, 3.0, 1e6]:
        sketch.add(value)
    back = sketch_from_row(pack_counts(sketch), sketch.count, sketch.sum, sketch.min, sketch.max)
    assert list(back.counts) == list(sketch.counts)
    assert back.quantiles([0.5, 0.99]) == sketch.quantiles([0.5, 0.99])

"""Chunks of JSON lines validated at once give exactly what reading them one by one gives."""

import json

from devkit.core.chunks import EventColumns, read_chunk
from devkit.core.events import MAX_LINE_BYTES, read_events

NOW = 1_800_000_000.0
PLAIN = ("ts", "operation", "model", "status", "duration_ms", "prompt_tokens", "completion_tokens")


def _line(**fields):
    event = {
        "operation": "chat",
        "model": "llama3",
        "status": "ok",
        "duration_ms": 12.5,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "ts": NOW - 60,
    }
    event.update(fields)
    return (json.dumps({k: v for k, v in event.items() if v is not ...}) + "\n").encode()


def _rows(items):
    """Each event of ``items`` as a tuple of its plain fields plus whether it came as a column."""
    out = []
    for item in items:
        if isinstance(item, EventColumns):
            out += [tuple(values) + (True,) for values in zip(*(getattr(item, f) for f in PLAIN))]
        else:
            out.append(tuple(getattr(item, f) for f in PLAIN) + (False,))
    return out


def _one_by_one(lines):
    records, errors = [], []
    for lineno, item in read_events(lines, NOW):
        if isinstance(item, Exception):
            errors.append((lineno, item.problem))
        else:
            records.append(tuple(getattr(item, f) for f in PLAIN))
    return records, errors


def _same_as_one_by_one(lines):
    items, errors = read_chunk(lines, NOW)
    records, expected_errors = _one_by_one(lines)
    assert [row[:-1] for row in _rows(items)] == records
    assert [(lineno, error.problem) for lineno, error in errors] == expected_errors
    return items, errors


def test_plain_lines_become_one_column_block_equal_to_the_records():
    lines = [_line(duration_ms=d, prompt_tokens=p, ts=NOW - 100 + p) for d, p in ((1, 0), (2.5, 7), (0, 9))]
    items, errors = _same_as_one_by_one(lines)
    assert errors == [] and len(items) == 1 and isinstance(items[0], EventColumns)
    assert items[0].duration_ms == [1.0, 2.5, 0.0] and all(type(d) is float for d in items[0].duration_ms)


def test_absent_optional_fields_get_the_same_defaults_as_one_by_one():
    lines = [_line(model=..., ts=..., prompt_tokens=..., completion_tokens=...)] * 3
    items, _ = _same_as_one_by_one(lines)
    assert isinstance(items[0], EventColumns)
    assert items[0].ts == [NOW] * 3 and items[0].model == [None] * 3 and items[0].prompt_tokens == [0] * 3


def test_events_with_other_fields_are_records_and_still_decoded_together():
    lines = [_line(id="a1"), _line(labels={"team": "x"}), _line(model="")]
    items, errors = _same_as_one_by_one(lines)
    assert errors == [] and not any(isinstance(item, EventColumns) for item in items)
    assert [item.id for item in items] == ["a1", None, None] and items[2].model is None


def test_hostile_lines_are_errors_with_their_own_line_numbers():
    lines = [
        _line(),
        b'{"operation": "bad\\ud800", "duration_ms": 1, "status": "ok"}\n',
        _line(prompt_tokens=10**20),
        _line(ts=1732680000000),
        _line(duration_ms=float("nan")),
        _line(completion_tokens=True),
        _line(duration_ms=10**400),
        _line(ts=10**400),
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b"   \n",
        b'{"operation": "x"}\n',
        _line(operation="caf\u00e9"),
        b"\xff\xfe\n",
        b"{" + b" " * MAX_LINE_BYTES + b"}\n",
        _line(),
    ]
    items, errors = _same_as_one_by_one(lines)
    assert [lineno for lineno, _ in errors] == [2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 14]
    assert len(_rows(items)) == 3


def test_lines_that_only_parse_together_are_each_reported():
    # Joined with commas these make three valid-looking elements; alone each line is bad JSON.
    lines = [
        b'{"operation": "a", "status": "ok", "duration_ms": 1, "x": [{}\n',
        b"{}]}\n",
        b'{"operation": "b", "status": "ok", "duration_ms": 1}, {"operation": "c", "status": "ok", "duration_ms": 1}\n',
        b'{"operation": "d", "status": "ok", "duration_ms": 1, "labels":\n',
        b'{"k": "v"}}\n',
    ]
    items, errors = _same_as_one_by_one(lines)
    assert items == [] and [lineno for lineno, _ in errors] == [1, 2, 3, 4, 5]


def test_an_object_continued_on_the_next_line_is_not_taken_for_one_event():
    lines = [
        b'{"operation": "a", "status": "ok"\n',
        b'"duration_ms": 1}\n',
        b'{"operation": "b", "status": "ok", "duration_ms": 1}, {"operation": "c", "status": "ok", "duration_ms": 1}\n',
    ]
    items, errors = _same_as_one_by_one(lines)
    assert items == [] and [lineno for lineno, _ in errors] == [1, 2, 3]


def test_one_bad_value_among_thousands_is_the_only_error():
    lines = [_line(prompt_tokens=n % 500) for n in range(3000)]
    lines[1234] = b'{"operation": "x", "model": "m\\udfff", "duration_ms": 1, "status": "ok"}\n'
    lines[2345] = _line(status="fine")
    items, errors = _same_as_one_by_one(lines)
    assert [lineno for lineno, _ in errors] == [1235, 2346]
    assert len(_rows(items)) == 2998


def test_first_line_number_carries_into_errors():
    items, errors = read_chunk([_line(), b"{}\n"], NOW, first_lineno=41)
    assert [lineno for lineno, _ in errors] == [42] and len(_rows(items)) == 1


def test_each_column_check_sends_its_chunk_back_to_one_by_one():
    cases = [
        dict(duration_ms="5"),
        dict(duration_ms=10**400),
        dict(duration_ms=-1),
        dict(ts=NOW + 3600),
        dict(status="fine"),
        dict(operation=" "),
        dict(prompt_tokens=1.5),
        dict(model=""),
        dict(labels={}),
    ]
    for change in cases:
        lines = [_line(), _line(**change), _line()]
        items, errors = _same_as_one_by_one(lines)
        assert not any(isinstance(item, EventColumns) for item in items), change
        assert len(errors) + len(_rows(items)) == 3, change


def test_a_null_model_among_named_ones_stays_in_the_column_block():
    items, errors = _same_as_one_by_one([_line(model=None), _line(), _line(model=None)])
    assert (
        errors == [] and len(items) == 1 and items[0].model == [None, "llama3", None] and len(items[0]) == 3
    )

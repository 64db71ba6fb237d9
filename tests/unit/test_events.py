"""The ingest event schema: one validation shared by `metrics ingest` and POST /api/events."""

import json

import pytest

from devkit.core.events import EventError, parse_event, read_events, validate_event
from devkit.errors import ValidationError

GOOD = {
    "operation": "chat",
    "model": "llama3",
    "duration_ms": 12.5,
    "status": "ok",
    "prompt_tokens": 3,
    "completion_tokens": 7,
    "cache_hit": True,
    "error": None,
    "ts": 1700000000.5,
    "labels": {"team": "a"},
}


def test_a_full_event_becomes_a_record_with_every_field():
    record = validate_event(dict(GOOD, id="abc", detail="short"))
    assert record.to_dict() == {
        "id": "abc",
        "ts": 1700000000.5,
        "operation": "chat",
        "model": "llama3",
        "status": "ok",
        "duration_ms": 12.5,
        "prompt_tokens": 3,
        "completion_tokens": 7,
        "cache_hit": True,
        "cost": 0.0,
        "error": None,
        "detail": "short",
        "labels": {"team": "a"},
        "cached_prompt_tokens": 0,
        "reasoning_tokens": 0,
        "ttft_ms": None,
        "chunks": None,
    }


def test_optional_fields_get_defaults_and_ts_comes_from_now():
    record = validate_event({"operation": "embed", "duration_ms": 0, "status": "error"}, now=42.0)
    assert (record.ts, record.model, record.prompt_tokens, record.completion_tokens) == (42.0, None, 0, 0)
    assert record.cache_hit is None and record.labels is None
    assert record.id is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"duration_ms": "x"}, 'duration_ms: expected a number >= 0, got "x"'),
        ({"duration_ms": -1}, "duration_ms: expected a number >= 0, got -1"),
        ({"duration_ms": True}, "duration_ms: expected a number >= 0, got true"),
        ({"status": "fine"}, 'status: expected "ok" or "error", got "fine"'),
        ({"prompt_tokens": 1.5}, "prompt_tokens: expected an integer from 0 to 1000000000000, got 1.5"),
        ({"completion_tokens": -3}, "completion_tokens: expected an integer from 0 to 1000000000000, got -3"),
        ({"cache_hit": "yes"}, 'cache_hit: expected true or false, got "yes"'),
        ({"labels": {"a": 1}}, 'labels: expected an object of string values, got {"a": 1}'),
        ({"operation": ""}, 'operation: expected a non-empty string of at most 200 characters, got ""'),
        ({"model": 7}, "model: expected a string of at most 200 characters, got 7"),
        ({"ts": "yesterday"}, 'ts: expected a number >= 0, got "yesterday"'),
        ({"prompt_token": 3}, "prompt_token: unknown field"),
    ],
)
def test_a_bad_field_is_named_in_the_message(change, message):
    with pytest.raises(EventError) as caught:
        validate_event(dict(GOOD, **change))
    assert caught.value.problem.startswith(message)
    assert isinstance(caught.value, ValidationError)


@pytest.mark.parametrize("field", ["operation", "duration_ms", "status"])
def test_required_fields_are_required(field):
    event = dict(GOOD)
    del event[field]
    with pytest.raises(EventError, match=f"^{field}: required field is missing$"):
        validate_event(event)


def test_parse_event_prefixes_the_line_number():
    with pytest.raises(EventError) as caught:
        parse_event(json.dumps(dict(GOOD, duration_ms="x")), lineno=7)
    assert caught.value.message == 'line 7: duration_ms: expected a number >= 0, got "x"'
    assert caught.value.lineno == 7


def test_parse_event_rejects_invalid_json_and_non_objects():
    with pytest.raises(EventError, match="^json: invalid JSON"):
        parse_event("{not json")
    with pytest.raises(EventError, match="^event: expected a JSON object, got list"):
        parse_event("[1, 2]")


def test_read_events_numbers_lines_skips_blanks_and_keeps_going_after_errors():
    lines = [json.dumps(GOOD), "", "oops", json.dumps(dict(GOOD, status="ok")).encode(), b"\xff\xfe\n"]
    results = list(read_events(lines, now=1700000001.0))
    assert [lineno for lineno, _ in results] == [1, 3, 4, 5]
    kinds = [type(item).__name__ for _, item in results]
    assert kinds == ["OperationRecord", "EventError", "OperationRecord", "EventError"]
    assert results[3][1].problem == "encoding: not valid UTF-8 at byte 0"


def test_json_nested_100k_deep_is_one_line_error_and_later_lines_are_read():
    deep = "[" * 100_000 + "]" * 100_000
    good = json.dumps(GOOD)
    results = list(read_events([deep, good]))
    assert results[0][0] == 1 and results[0][1].problem == "json: nested too deeply"
    assert results[1][0] == 2 and results[1][1].operation == GOOD["operation"]


def test_a_timestamp_more_than_five_minutes_ahead_is_refused_with_its_line():
    now = 1_800_000_000.0
    line = json.dumps(dict(GOOD, ts=now + 301))
    ((lineno, error),) = list(read_events(["", line], now=now))
    assert lineno == 2 and str(error).startswith("line 2: ts: expected unix seconds")
    ((_, ok),) = list(read_events([json.dumps(dict(GOOD, ts=now + 299))], now=now))
    assert ok.ts == now + 299

"""track()'s LLM signals: first_token/chunk/stream timings, usage read from responses, cost of cached tokens."""

import glob
import json
import os

import pytest

import devkit
from devkit.core.events import EventError, validate_event
from devkit.core.records import full_row
from devkit.errors import UsageError
from devkit.metrics import settings
from devkit.metrics import track as track_module
from devkit.metrics.recorder import RECORDER

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "usage")
FIXTURES = sorted(
    p for p in glob.glob(os.path.join(DATA, "*")) if not p.endswith(".expected.json") and os.path.isfile(p)
)
PRICED = {
    "name": "llama3",
    "url": "http://127.0.0.1:9",
    "price_input_per_1m": 2.0,
    "price_output_per_1m": 10.0,
    "price_cached_input_per_1m": 0.5,
}


@pytest.fixture
def drained(tmp_path, monkeypatch):
    """Hold the flusher back; ``drained()`` returns the Batch of what track() recorded since."""
    (tmp_path / "devkit.json").write_text(json.dumps({"models": [PRICED]}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEVKIT_CONFIG", raising=False)
    settings.forget()
    with RECORDER.paused():
        RECORDER.drain()
        yield RECORDER.drain
    settings.forget()


class FakeClock:
    """A perf_counter stand-in the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _read(path):
    with open(path, "rb") as handle:
        body = handle.read()
    return body if path.endswith(".txt") else json.loads(body)


def _expected(path):
    with open(os.path.splitext(path)[0] + ".expected.json", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("path", FIXTURES, ids=os.path.basename)
def test_usage_of_every_fixture_records_every_count(drained, path):
    want = _expected(path)
    with devkit.track("chat", model="llama3") as op:
        op.usage(_read(path))
    batch = drained()
    (row,), (agg,) = batch.rows, batch.aggregates.values()
    stored = {
        "prompt_tokens": row[6],
        "completion_tokens": row[7],
        "cached_prompt_tokens": row[13],
        "reasoning_tokens": row[14],
    }
    assert stored == {k: want[k] for k in stored}
    assert (agg.prompt, agg.completion, agg.cached, agg.reasoning) == tuple(stored.values())


def test_usage_folds_cached_and_reasoning_sums_and_bills_cached_tokens_at_their_price(drained):
    with open(os.path.join(DATA, "openai_chat_cached.json"), encoding="utf-8") as handle:
        body = json.load(handle)
    for _ in range(3):
        with devkit.track("chat", model="llama3") as op:
            op.usage(body)
    batch = drained()
    (agg,) = batch.aggregates.values()
    assert (agg.count, agg.prompt, agg.completion, agg.cached, agg.reasoning) == (3, 6018, 900, 5760, 768)
    # 86 uncached at 2.0, 1920 cached at 0.5, 300 completion at 10.0 per 1M tokens, three times.
    assert agg.cost == pytest.approx(3 * (86 * 2.0 + 1920 * 0.5 + 300 * 10.0) / 1e6)
    assert agg.ttft is None and agg.tps is None


def test_a_stream_of_chunks_takes_usage_from_its_final_chunk(drained):
    lines = [json.dumps({"model": "llama3", "message": {"content": w}, "done": False}) for w in ("a", "b")]
    lines.append(json.dumps({"model": "llama3", "done": True, "prompt_eval_count": 7, "eval_count": 2}))
    with devkit.track("chat", model="llama3") as op:
        chunks = [json.loads(line) for line in op.stream(lines)]
        op.usage(chunks)
    (row,) = drained().rows
    assert row[6:8] == (7, 2) and row[16] == 3


def test_an_unknown_shape_raises_naming_its_keys_and_records_nothing_of_it(drained):
    with pytest.raises(UsageError, match="content"):
        with devkit.track("chat", model="llama3") as op:
            op.usage({"id": "x", "content": [], "stop_reason": "end"})
    (row,) = drained().rows
    assert row[6:8] == (0, 0) and row[10] == "UsageShapeError"


def test_stream_timings_are_exact_with_a_controlled_clock(drained, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(track_module, "_perf", clock)
    with devkit.track("chat", model="llama3") as op:
        clock.now += 0.3
        op.first_token()
        for _ in range(10):
            clock.now += 0.02
            op.chunk()
        op.tokens(prompt=4, completion=11)
        clock.now += 0.005
    assert op.streaming() == pytest.approx((0.3, 0.02, 50.0, 11))
    batch = drained()
    (agg,) = batch.aggregates.values()
    assert (agg.ttft.count, agg.tpot.count, agg.tps.count) == (1, 1, 1)
    assert (agg.ttft.sum, agg.tpot.sum, agg.tps.sum) == pytest.approx((0.3, 0.02, 50.0))
    assert batch.rows[0][15:] == (pytest.approx(300.0), 11)


def test_first_token_alone_times_the_rest_to_the_end_and_is_idempotent(drained, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(track_module, "_perf", clock)
    with devkit.track("chat", model="llama3") as op:
        clock.now += 0.5
        op.first_token()
        clock.now += 1.0
        op.first_token()
        op.tokens(completion=21)
    assert op.streaming() == pytest.approx((0.5, None, 20.0, 1))


def test_operations_that_do_not_stream_keep_no_stream_values(drained):
    with devkit.track("embed", model="llama3") as op:
        op.tokens(prompt=3)
    batch = drained()
    (agg,) = batch.aggregates.values()
    assert op.streaming() is None and agg.ttft is None and (agg.cached, agg.reasoning) == (0, 0)
    (plain,) = batch.plain
    assert not batch.rows and full_row(plain)[13:] == (0, 0, None, None) and plain[5:7] == (3, 0)


def test_ingest_events_carry_the_llm_fields_and_refuse_parts_bigger_than_their_whole():
    event = {
        "operation": "chat",
        "duration_ms": 900.0,
        "status": "ok",
        "prompt_tokens": 10,
        "completion_tokens": 30,
        "cached_prompt_tokens": 4,
        "reasoning_tokens": 5,
        "ttft_ms": 300.0,
        "chunks": 30,
    }
    record = validate_event(event, now=1.8e9)
    assert (record.cached_prompt_tokens, record.reasoning_tokens, record.ttft_ms, record.chunks) == (
        4,
        5,
        300.0,
        30,
    )
    for field, value in (
        ("cached_prompt_tokens", 11),
        ("reasoning_tokens", 31),
        ("ttft_ms", 901.0),
        ("chunks", 0),
        ("ttft_ms", -1),
        ("chunks", 2.5),
    ):
        with pytest.raises(EventError, match=field):
            validate_event(dict(event, **{field: value}), now=1.8e9)
    with pytest.raises(EventError, match="chunks"):
        validate_event({k: v for k, v in event.items() if k != "ttft_ms"}, now=1.8e9)

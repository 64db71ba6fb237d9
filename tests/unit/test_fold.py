"""The column-wise fold of plain operations equals the one-by-one fold, series by series."""

import json
import math
import random
import time

import pytest

from devkit.core.records import full_row
from devkit.core.rollup import FINEST_S, Aggregate, stream_values
from devkit.metrics import recorder as recorder_module
from devkit.metrics import settings
from devkit.metrics.fold import NO_TTFT
from devkit.metrics.instruments import Registry
from devkit.metrics.recorder import Recorder

# Two seconds into a 10 s bucket a minute ago: entries 0-1 s and 10-11 s later fall in exactly two buckets.
NOW = time.time() // FINEST_S * FINEST_S - 58
PRICE = {"name": "m1", "url": "http://127.0.0.1:9", "price_input_per_1m": 2.0, "price_output_per_1m": 10.0}


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    """A private Recorder whose batches land in ``recorder.written`` (the config prices model m1)."""
    (tmp_path / "devkit.json").write_text(json.dumps({"models": [PRICE]}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEVKIT_CONFIG", raising=False)
    settings.forget()  # the config (its prices) is read again from tmp_path
    written = []
    rec = Recorder(Registry(), writer=written.append)
    rec.written = written
    yield rec
    settings.forget()


def _entries(count, seed=3):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        # Three series, two 10 s buckets, durations inside and outside the sketch's range, some streamed.
        seconds = rng.choice([0.0, 2e-8, 250000.0]) if i % 97 == 0 else rng.lognormvariate(-3, 1.5)
        ttft = rng.uniform(0, seconds) if i % 3 == 0 and seconds > 0 else NO_TTFT
        ts = NOW + (i % 2) * FINEST_S + rng.random()
        out.append((ts, seconds, "op" + str(i % 3), rng.choice(["m1", None]), i % 7, i % 11, ttft))
    return out


def _expected(entries):
    # The one-by-one fold every operation went through before.
    groups = {}
    for ts, seconds, operation, model, prompt, completion, ttft in entries:
        key = (int(ts // FINEST_S) * FINEST_S, operation, model or "", "ok")
        group = groups.setdefault(key, Aggregate(ts))
        cost = (prompt * 2.0 + completion * 10.0) / 1e6 if model == "m1" else 0.0
        group.add(ts, seconds, prompt, completion, None, cost)
        if ttft != NO_TTFT:
            group.add_llm(0, 0, stream_values(ttft, seconds - ttft, 1, completion))
    return groups


def test_column_fold_equals_the_one_by_one_fold_for_every_series(recorder):
    entries = _entries(3000)
    recorder.queue.extend(entries)
    assert recorder.flush() == 3000
    (batch,) = recorder.written
    want = _expected(entries)
    assert set(batch.aggregates) == set(want) and len(want) == 12
    for key, agg in batch.aggregates.items():
        exact = want[key]
        assert (agg.count, agg.prompt, agg.completion, agg.slots) == (
            exact.count,
            exact.prompt,
            exact.completion,
            exact.slots,
        )
        assert (agg.dmin, agg.dmax, agg.first, agg.last) == (exact.dmin, exact.dmax, exact.first, exact.last)
        assert math.isclose(agg.dsum, exact.dsum, rel_tol=1e-12) and math.isclose(
            agg.cost, exact.cost, abs_tol=1e-12
        )
        for name in ("ttft", "tps"):
            mine, theirs = getattr(agg, name), getattr(exact, name)
            assert (mine is None) == (theirs is None)
            if mine is not None:
                assert (mine.count, mine.slots, mine.min, mine.max) == (
                    theirs.count,
                    theirs.slots,
                    theirs.min,
                    theirs.max,
                )
        assert agg.tpot is None


def test_raw_rows_keep_every_field_and_streamed_rows_their_time_to_first_token(recorder):
    entries = _entries(300)
    recorder.queue.extend(entries)
    recorder.flush()
    (batch,) = recorder.written
    short = batch.plain + batch.streamed
    rows = sorted(batch.rows + [full_row(row) for row in short], key=lambda row: row[1])
    assert len(rows) == 300 and all(row[0] is None for row in rows)
    for row, (ts, seconds, operation, model, prompt, completion, ttft) in zip(rows, sorted(entries)):
        assert row[1:8] == (ts, operation, model, "ok", seconds * 1000.0, prompt, completion)
        assert row[15:] == ((None, None) if ttft == NO_TTFT else (ttft * 1000.0, 1))
    # Series with a streamed operation keep rows with the stream columns; the others the shortest ones.
    assert (
        not batch.rows
        and {len(row) for row in batch.streamed} == {10}
        and {len(row) for row in batch.plain} == {8}
    )
    assert {row[1] for row in batch.streamed} == {"op0"} and {row[1] for row in batch.plain} == {"op1", "op2"}


def test_a_bad_timestamp_among_plain_entries_drops_that_entry_alone(recorder):
    entries = _entries(50)
    bad = (1e20,) + entries[7][1:]
    recorder.queue.extend(entries[:20] + [bad] + entries[20:])
    with pytest.warns(RuntimeWarning, match="dropped a bad record of 'op1'.*1e\\+20"):
        assert recorder.flush() == 50
    (batch,) = recorder.written
    assert batch.dropped == 1 and recorder.stats()["dropped"] == 1
    assert sum(agg.count for agg in batch.aggregates.values()) == 50


def test_raw_rows_past_the_cap_are_counted_as_not_kept_while_every_count_stays(recorder):
    recorder.max_rows = 40
    recorder.queue.extend(_entries(100))
    assert recorder.flush() == 100
    (batch,) = recorder.written
    assert len(batch.rows) + len(batch.plain) + len(batch.streamed) == 40 and batch.not_kept == 60


def test_a_price_that_fails_for_one_token_count_drops_those_operations_alone(recorder, monkeypatch):
    def cost(model, prompt, completion, cached=0):
        if prompt == 3:
            raise ArithmeticError("price overflow")
        return 0.5

    monkeypatch.setattr(recorder_module, "_cost_function", lambda: cost)
    entries = _entries(700)
    recorder.queue.extend(entries)
    with pytest.warns(RuntimeWarning, match="price overflow"):
        assert recorder.flush() == 600
    (batch,) = recorder.written
    assert batch.dropped == 100 and len(batch.rows) + len(batch.plain) + len(batch.streamed) == 600
    priced = sum(1 for entry in entries if entry[4] != 3 and (entry[4] or entry[5]))  # no tokens: no price
    assert sum(agg.cost for agg in batch.aggregates.values()) == pytest.approx(0.5 * priced) and priced < 600

"""Ingest's fast path (chunks, column fold, compact blobs) stores what the record path stores."""

import itertools
import json
import random
import struct

from devkit.core.chunks import read_chunk
from devkit.core.events import read_events
from devkit.core.records import Batch
from devkit.store.codec import unpack_pairs
from devkit.store.core import Store
from devkit.store.writer import fold_records

NOW = 1_800_000_000.0


def _lines(count, seed=5, ages=(30, 3 * 3600, 40 * 86400)):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        event = {
            "operation": rng.choice(["chat", "embed"]),
            "model": rng.choice(["a", "b", None]),
            "status": rng.choice(["ok", "error"]),
            "duration_ms": rng.choice([0, 1e-6, 3, 250.5, 9e9]),
            "prompt_tokens": rng.randint(0, 900),
            "completion_tokens": rng.randint(0, 90),
            "ts": NOW - rng.choice(ages) - i * 0.37,
        }
        out.append((json.dumps(event) + "\n").encode())
    return out


def _prices(model, prompt, completion):
    return None if model is None else prompt * 1e-6 + completion * 3e-6


def _folded(items, prices):
    groups, rows, plain = fold_records(items, prices, NOW, itertools.count(1))
    return {key: agg.to_list() for key, agg in groups.items()}, rows, plain


def test_column_fold_equals_record_fold_for_every_age_and_odd_durations():
    lines = _lines(3000)
    columns, errors = read_chunk(lines, NOW)
    assert errors == [] and len(columns) == 1
    records = [record for _, record in read_events(lines, NOW)]
    for prices in (None, _prices):
        assert _folded(columns, prices) == _folded(records, prices)
    groups, _, plain = _folded(columns, _prices)
    assert {key[0] % 3600 == 0 for key in groups} == {True, False}
    assert sum(agg[0] for agg in groups.values()) == len(plain) == 3000


def test_one_age_per_chunk_takes_the_same_buckets_as_records():
    for age in (30, 3 * 3600, 40 * 86400):
        lines = _lines(500, seed=age, ages=(age,))
        records = [record for _, record in read_events(lines, NOW)]
        assert _folded(read_chunk(lines, NOW)[0], None) == _folded(records, None)


def _legacy(blob):
    slots, counts = unpack_pairs(blob)
    return b"".join(struct.pack("<qq", s, c) for s, c in zip(slots, counts))


def _breakdown(store):
    return sorted(
        (row["operation"], row["model"] or "", row["count"], row["prompt_tokens"], list(row["sketch"].counts))
        for row in store.breakdown()
    )


def test_a_store_with_legacy_blobs_reads_and_merges_the_same(tmp_path):
    first, second = _lines(800, seed=1, ages=(30,)), _lines(700, seed=2, ages=(30,))
    with (
        Store(tmp_path / "fresh.db", clock=lambda: NOW) as fresh,
        Store(tmp_path / "old.db", clock=lambda: NOW) as old,
    ):
        for store in (fresh, old):
            store.write_batch(Batch(read_chunk(first, NOW)[0]))
        rows = old.conn.execute(
            "SELECT epoch, res, bucket, operation, model, status, sketch FROM aggregates"
        ).fetchall()
        old.conn.executemany(
            "UPDATE aggregates SET sketch = ? WHERE epoch = ? AND res = ? AND bucket = ? AND operation = ?"
            " AND model = ? AND status = ?",
            [(_legacy(row[6]),) + tuple(row[:6]) for row in rows],
        )
        assert _breakdown(old) == _breakdown(fresh)
        for store in (fresh, old):
            store.write_batch(Batch(read_chunk(second, NOW)[0]))
        assert _breakdown(old) == _breakdown(fresh)
        assert sum(row[2] for row in _breakdown(old)) == 1500


def _event(i, **extra):
    return json.dumps(
        dict(
            {
                "operation": "chat",
                "model": "m",
                "status": "ok",
                "duration_ms": 5,
                "prompt_tokens": i,
                "completion_tokens": 1,
            },
            **extra,
        )
    )


def _ingest(cli, tmp_path, name, *flags):
    result = cli("metrics", "ingest", name, "--json", *flags, cwd=tmp_path)
    return result.code, json.loads(result.out)


def _totals(cli, tmp_path):
    totals = json.loads(cli("status", "--json", cwd=tmp_path).out)["totals"]
    return totals["requests"], totals["prompt_tokens"]


def test_errors_keep_their_line_numbers_across_chunks_and_counts_stay_exact(cli, tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    lines = [_event(i) for i in range(1, 12001)]
    lines[4999] = _event(0, ts=1732680000000)
    lines[5000] = '{"operation": "chat", "status": "ok"}'
    lines[11999] = _event(0, prompt_tokens=-1)
    (tmp_path / "e.jsonl").write_text("\n".join(lines) + "\n")
    code, result = _ingest(cli, tmp_path, "e.jsonl")
    assert code == 1 and (result["ingested"], result["rejected"]) == (11997, 3)
    assert [error["line"] for error in result["errors"]] == [5000, 5001, 12000]
    assert _totals(cli, tmp_path) == (11997, sum(range(1, 12001)) - 5000 - 5001 - 12000)


def test_a_long_line_amid_a_chunk_and_an_unfinished_last_line(cli, tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    text = "\n".join([_event(1)] * 100 + ['{"operation": "' + "x" * (2 << 20) + '"}'] + [_event(2)] * 100)
    (tmp_path / "l.jsonl").write_text(text + "\n" + _event(4))
    code, result = _ingest(cli, tmp_path, "l.jsonl")
    assert code == 1 and (result["ingested"], result["rejected"]) == (201, 1)
    assert result["errors"][0]["line"] == 101 and "longer than" in result["errors"][0]["message"]
    assert _ingest(cli, tmp_path, "l.jsonl")[1]["ingested"] == 0
    with open(tmp_path / "l.jsonl", "a") as handle:
        handle.write("\n" + _event(8) + "\n")
    assert _ingest(cli, tmp_path, "l.jsonl")[1]["ingested"] == 1
    assert _totals(cli, tmp_path) == (202, 100 + 200 + 4 + 8)

"""The recorder against the real store: exit flush, background flush, forks, and failed writes."""

import json
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from devkit.config import load_config
from devkit.metrics.instruments import Counter, Registry
from devkit.metrics.recorder import Recorder
from devkit.metrics.track import Operation
from devkit.store import open_store
from tests.conftest import REPO_ROOT, clean_env

PRICES = {
    "name": "llama3",
    "url": "http://127.0.0.1:9",
    "price_input_per_1m": 1.0,
    "price_output_per_1m": 4.0,
}


def _project(tmp_path, metrics=None):
    config = {"models": [PRICES], "metrics": metrics or {}}
    (tmp_path / "devkit.json").write_text(json.dumps(config))
    return tmp_path


def _run(tmp_path, code, timeout=30):
    env = clean_env({"PYTHONPATH": REPO_ROOT})
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _totals(tmp_path):
    with open_store(load_config(cwd=str(tmp_path), env={})) as store:
        return store.totals(), store.instruments()


def test_threads_in_a_child_process_lose_nothing_at_exit(tmp_path):
    _project(tmp_path)
    _run(
        tmp_path,
        """
        import threading, devkit
        jobs = devkit.counter("jobs_total", "jobs done", labels=("worker",))
        def work(n):
            for i in range(2000):
                with devkit.track("chat", model="llama3") as op:
                    op.tokens(prompt=3, completion=5)
                jobs.labels(worker=str(n)).inc()
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    """,
    )
    totals, instruments = _totals(tmp_path)
    assert (totals["requests"], totals["errors"]) == (8000, 0)
    assert (totals["prompt_tokens"], totals["completion_tokens"]) == (24000, 40000)
    assert totals["cost"] == pytest.approx(8000 * (3 * 1.0 + 5 * 4.0) / 1e6)
    jobs = {i["labels"]["worker"]: i["value"] for i in instruments if i["name"] == "jobs_total"}
    assert jobs == {str(n): 2000 for n in range(4)}


def test_an_app_using_only_instruments_is_flushed_at_exit(tmp_path):
    _project(tmp_path)
    _run(
        tmp_path,
        """
        import devkit
        steps = devkit.histogram("step_seconds", "step time")
        for i in range(500):
            steps.observe(0.001 * (i % 50 + 1))
        devkit.gauge("queue_depth").set(7)
        devkit.counter("jobs_total").inc(3)
    """,
    )
    _totals_, instruments = _totals(tmp_path)
    by_name = {i["name"]: i for i in instruments}
    assert by_name["step_seconds"]["sketch"].count == 500
    assert by_name["queue_depth"]["value"] == 7
    assert by_name["jobs_total"]["value"] == 3


def test_the_background_thread_flushes_without_waiting_for_exit(tmp_path):
    _project(tmp_path, {"flush_interval_s": 0.1})
    proc = _run(
        tmp_path,
        """
        import time, devkit
        from devkit.config import load_config
        from devkit.store import open_store
        with devkit.track("ping"):
            pass
        deadline = time.time() + 2.5
        while time.time() < deadline:
            with open_store(load_config()) as store:
                if store.totals()["requests"]:
                    print("seen")
                    break
            time.sleep(0.05)
    """,
    )
    assert proc.stdout.strip() == "seen"


def test_forked_children_start_empty_and_flush_through_multiprocessing_exit(tmp_path):
    _project(tmp_path)
    _run(
        tmp_path,
        """
        import multiprocessing, os, devkit
        from devkit.metrics.api import flush
        for _ in range(10):
            with devkit.track("parent"):
                pass
        def child():
            for _ in range(1000):
                with devkit.track("child", model="llama3") as op:
                    op.tokens(prompt=1)
        ctx = multiprocessing.get_context("fork")
        workers = [ctx.Process(target=child) for _ in range(2)]
        [w.start() for w in workers]
        [w.join() for w in workers]
        assert all(w.exitcode == 0 for w in workers)
        pid = os.fork()
        if pid == 0:
            with devkit.track("child"):
                pass
            flush()
            os._exit(0)
        os.waitpid(pid, 0)
    """,
    )
    totals, _ = _totals(tmp_path)
    assert (totals["requests"], totals["prompt_tokens"]) == (10 + 2000 + 1, 2000)


NOW = time.time()


def _queue_operations(recorder, n, **fields):
    for i in range(n):
        op = Operation(fields.get("operation", "unit"))
        op.ts, op.duration_s = fields.get("ts", NOW - 100 + i), 0.001
        op.prompt_tokens = fields.get("prompt", 1)
        recorder.rare.append(op)


def _counts(batch):
    return sum(a.count for a in batch.aggregates.values()), sum(a.prompt for a in batch.aggregates.values())


def test_a_failed_write_keeps_every_count_raw_rows_bounded_and_warns_once(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    written, failing = [], [True]

    def writer(batch):
        if failing[0]:
            raise OSError("disk full")
        written.append(batch)

    registry = Registry()
    recorder = Recorder(registry, writer=writer)
    recorder.max_rows = 5
    counter = registry.get_or_create("counter", "retry_total")
    _queue_operations(recorder, 4)
    counter.inc(2)
    with pytest.warns(RuntimeWarning, match="disk full"):
        assert recorder.flush() == 0
    _queue_operations(recorder, 4)
    counter.inc(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert recorder.flush() == 0
    assert recorder.stats() == {"queued": 0, "pending": 5, "dropped": 0, "not_kept": 3, "failures": 2}
    failing[0] = False
    assert recorder.flush() == 8
    (batch,) = written
    assert _counts(batch) == (8, 8) and len(batch.rows) == 5 and batch.not_kept == 3
    assert [(d.name, d.value) for d in batch.instruments] == [("retry_total", 5)]
    assert recorder.flush() == 0 and len(written) == 1


def test_one_bad_record_alone_is_dropped_counted_and_later_flushes_work(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    written = []
    recorder = Recorder(Registry(), writer=written.append)
    _queue_operations(recorder, 3)
    _queue_operations(recorder, 1, ts=1e20)  # slipped past record-time checks: isolated at the fold
    bad = Operation("bad")
    bad.ts, bad.duration_s, bad.labels = NOW, 0.001, {"k": object()}
    recorder.rare.append(bad)
    _queue_operations(recorder, 2)
    with pytest.warns(RuntimeWarning, match="dropped a bad record"):
        assert recorder.flush() == 5
    assert written[0].dropped == 2 and recorder.stats()["dropped"] == 2
    _queue_operations(recorder, 4)
    assert recorder.flush() == 4 and _counts(written[1]) == (4, 4)


def test_drain_hands_over_instrument_changes_once(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    registry = Registry()
    recorder = Recorder(registry, writer=lambda batch: None)
    plain = registry.get_or_create("counter", "drain_total")
    assert isinstance(plain, Counter)
    plain.inc()
    assert [(d.name, d.value) for d in recorder.drain().instruments] == [("drain_total", 1)]
    assert not recorder.drain()


def test_a_queue_over_the_cap_is_folded_by_the_recording_thread_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    written = []
    recorder = Recorder(Registry(), writer=written.append)
    recorder.max_queued = 3
    for _ in range(10):
        _queue_operations(recorder, 2)
        recorder.pressure()
        assert len(recorder.queue) <= 3
    assert recorder.flush() == 20 and _counts(written[0]) == (20, 20) and len(written[0].rows) == 20
    assert recorder.stats()["dropped"] == 0


def _queue_kinds(recorder, ts):
    # One full row (labels), one streamed and one plain operation, each queued the way track() does.
    labelled = Operation("full", labels={"route": "/v1"})
    labelled.ts, labelled.duration_s = ts, 0.5
    recorder.rare.append(labelled)
    recorder.queue.append((ts + 1, 0.5, "streamed", "llama3", 2, 9, 0.125))
    recorder.queue.append((ts + 2, 0.25, "plain", "llama3", 3, 0, -1.0))


def test_full_streamed_and_plain_rows_reach_the_store_with_their_own_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    cfg = load_config()

    def writer(batch):
        with open_store(cfg) as store:
            store.write_batch(batch)

    recorder = Recorder(Registry(), writer=writer)
    _queue_kinds(recorder, NOW - 100)
    assert recorder.flush() == 3
    with open_store(cfg) as store:
        rows = store.conn.execute(
            "SELECT operation, duration_ms, prompt_tokens, completion_tokens, ttft_ms, chunks, labels, seq"
            " FROM operations ORDER BY ts"
        ).fetchall()
    assert [row[:7] for row in rows] == [
        ("full", 500.0, 0, 0, None, None, '{"route": "/v1"}'),
        ("streamed", 500.0, 2, 9, 125.0, 1, None),
        ("plain", 250.0, 3, 0, None, None, None),
    ]
    assert len({row[7] for row in rows}) == 3  # every row its own seq


def test_rows_handed_back_after_a_failed_write_make_way_full_ones_first(tmp_path, monkeypatch):
    monkeypatch.chdir(_project(tmp_path))
    written, failing = [], [True]

    def writer(batch):
        if failing[0]:
            _queue_kinds(recorder, NOW - 100)  # recorded while the write was under way
            recorder.fold_queue()
            raise OSError("disk full")
        written.append(batch)

    recorder = Recorder(Registry(), writer=writer)
    recorder.max_rows = 4
    _queue_kinds(recorder, NOW - 200)
    with pytest.warns(RuntimeWarning, match="disk full"):
        assert recorder.flush() == 0
    assert recorder.stats()["pending"] == 4  # six rows held back: the two full ones made way
    failing[0] = False
    assert recorder.flush() == 6
    (batch,) = written
    assert batch.rows == [] and batch.not_kept == 2
    assert [(row[0], row[1], row[8:]) for row in batch.streamed] == [
        (NOW - 199, "streamed", (125.0, 1)),
        (NOW - 99, "streamed", (125.0, 1)),
    ]
    assert [(row[0], row[1], len(row)) for row in batch.plain] == [
        (NOW - 198, "plain", 8),
        (NOW - 98, "plain", 8),
    ]

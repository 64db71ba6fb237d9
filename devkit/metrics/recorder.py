"""The process-wide recorder: operations fold into exact per-series aggregates; a flusher writes them.

Apps only append to ``queue`` (plain operations as tuples) and ``rare`` (Operations with labels,
cache use, detail, an error or chunks). A daemon thread folds both into 10 s aggregates (O(series),
so counts stay exact whatever the burst) and bounded raw rows, and writes them every
``metrics.flush_interval_s``. Past ``max_queued`` the recording thread folds itself
(backpressure, never loss). A failed write keeps everything for the next try; at exit the write
waits at most ``EXIT_WAIT_S``, then what is left goes to a spill file the next writer takes in.
"""

import atexit
import collections
import contextlib
import math
import os
import sys
import threading
import time
import warnings

from devkit.config.schema import SECTIONS
from devkit.core.events import MAX_FUTURE_S, MIN_TS
from devkit.core.records import Batch
from devkit.core.rollup import FINEST_S, Aggregate, merge_into
from devkit.errors import DevkitError
from devkit.metrics import fold as _fold_columns
from devkit.metrics import signals
from devkit.metrics.instruments import Registry
from devkit.metrics.settings import current_config, metrics_setting
from devkit.store import open_store, sqlite_available, store_path
from devkit.store.spill import write_spill

# Everything the flusher needs is imported above, at import time: a module import in
# flight in a background thread when the app forks leaves its lock held in the child.

WAKE_AT = 5_000  # queued operations that wake the flusher early
MAX_QUEUED_OPERATIONS = 20_000  # past this the recording thread folds the queue itself
MAX_RAW_ROWS = 50_000  # raw rows held for the store; past it they are counted as not kept
EXIT_WAIT_S = 5.0  # the longest an exiting app waits for a store another process holds
FORK_WAIT_S = 1.0
_FLUSH_WAIT_MIN_S = 2.0
# Without sqlite3 every flush is a spill file: fewer, larger ones (a kill -9 loses up to this long).
SPILL_INTERVAL_S = 30.0


def write_to_store(batch, deadline=None):
    """Write ``batch`` (and any spill files waiting) to the store of the process's config.

    The batch's aggregates go to a journal first, so a kill -9 while the write waits for the lock
    loses no counts. On a Python without sqlite3 the batch goes to a spill file instead.
    """
    if not sqlite_available():
        spill_beside_store(batch)
        return
    journal = spill_beside_store(_counts_only(batch), journal=True)
    try:
        timeout_s = None if deadline is None else max(0.0, deadline - time.monotonic())
        with open_store(current_config(), busy_timeout_s=timeout_s) as store:
            store.write_batch(batch, deadline, spill_name=os.path.basename(journal))
            # The batch is committed: a spill file that cannot be taken now waits for a later flush.
            with contextlib.suppress(DevkitError):
                store.take_spills(deadline)
    finally:
        # Written or handed back to memory: either way the journal must not be counted again.
        with contextlib.suppress(OSError):
            os.remove(journal)


def _trim_front(lists, excess):
    """``lists`` with ``excess`` items in all dropped from their fronts, the first list first."""
    out = []
    for items in lists:
        cut = min(excess, len(items))
        out.append(items[cut:])
        excess -= cut
    return out


def _counts_only(batch):
    # O(series): the raw rows stay out of the journal; taken in, they count as not kept.
    not_kept = batch.not_kept + len(batch.rows) + len(batch.plain) + len(batch.streamed)
    return Batch((), batch.instruments, batch.aggregates, (), not_kept, batch.dropped)


def spill_beside_store(batch, journal=False):
    """Keep ``batch`` in a spill file (or a flush's ``journal``) beside the store of the process's config."""
    path = store_path(current_config())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return write_spill(path, batch, time.time(), journal)


class Recorder:
    """Folds operations into exact aggregates and bounded raw rows, and flushes them as Batches."""

    def __init__(self, registry, writer=write_to_store, spiller=spill_beside_store):
        self.registry = registry
        self.writer = writer
        self.spiller = spiller
        self.queue = collections.deque()
        self.rare = collections.deque()
        self.max_queued = MAX_QUEUED_OPERATIONS
        self.max_rows = MAX_RAW_ROWS
        self._reset_state()

    def _reset_state(self):
        self.running = False
        self.dropped = self.not_kept = self.failures = 0
        self._groups, self._rows, self._plain, self._streamed, self._instruments = {}, [], [], [], {}
        self._pending_not_kept = self._pending_dropped = 0
        self._warned = set()
        self._start_lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._fold_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._woken = False
        self._hooks_pid = None
        self._fork_held = False

    def start(self):
        """Start the background flusher (once per process) and register the exit flush."""
        with self._start_lock:
            if self.running:
                return
            interval_s = _flush_interval_s()
            self._register_exit_hooks()
            thread = threading.Thread(
                target=self._run, args=(interval_s,), name="devkit-metrics-flusher", daemon=True
            )
            thread.start()
            self.running = True

    def _register_exit_hooks(self):
        if self._hooks_pid == os.getpid():
            return
        self._hooks_pid = os.getpid()
        atexit.register(self.close)
        # Children started by multiprocessing (fork, forkserver) leave through os._exit, skipping
        # atexit; its own exit finalizers still run, so the last operations get flushed there.
        mp_util = sys.modules.get("multiprocessing.util")
        if mp_util is not None:
            mp_util.Finalize(None, self.close, exitpriority=100)
        signals.flush_on_termination(self.flush_or_spill)

    def _run(self, interval_s):
        signals.keep_off_this_thread()
        stop, wake = self._stop, self._wake
        next_flush = time.monotonic() + interval_s
        while not stop.is_set():
            wake.wait(max(0.0, next_flush - time.monotonic()))
            wake.clear()
            self._woken = False
            try:
                self.fold_queue()
                now = time.monotonic()
                if now >= next_flush:
                    # A fixed cadence: a slow flush makes the next one sooner, so a crash loses about one interval.
                    next_flush = max(next_flush + interval_s, now)
                    self.flush(now + max(interval_s, _FLUSH_WAIT_MIN_S))
            except Exception as exc:  # the flusher never dies: the next round tries again
                self.failures += 1
                self._warn_once("flusher", f"flush round failed ({type(exc).__name__}: {exc})")

    def pressure(self):
        """Called by recording threads when the queue is long: wake the flusher, fold when over the cap."""
        # Event.set() takes a lock and notifies: once per wake-up, not once per operation.
        if not self._woken:
            self._woken = True
            self._wake.set()
        if len(self.queue) + len(self.rare) > self.max_queued:
            self.fold_queue()

    def fold_queue(self):
        """Fold every queued operation into the pending aggregates and raw rows."""
        with signals.holding(self._fold_lock):
            self._fold_all()

    def _fold_all(self):
        plain, rare = _fold_columns.take_all(self.queue), _fold_columns.take_all(self.rare)
        if not plain and not rare:
            return
        cost_of, now = _memo(_cost_function()), time.time()
        low, high = MIN_TS, now + MAX_FUTURE_S
        if plain:
            self._fold_plain(plain, cost_of, low, high)
        for item in rare:
            self._fold_one(item, cost_of, low, high)

    def _fold_plain(self, entries, cost_of, low, high):
        series, bad = _fold_columns.by_series(entries, low, high)
        for entry in bad:
            self._drop(entry[2], _bad_ts(entry[0]))
        for key, columns in series.items():
            try:
                costs, any_streamed = _fold_columns.fold_series(self._groups, key, columns, cost_of)
            except Exception as exc:  # a broken price: only the entries at fault are lost
                if len(columns[0]) == 1:
                    self._drop(key[1], exc)
                else:
                    for entry in zip(*columns):
                        self._fold_plain([entry], cost_of, low, high)
                continue
            self._keep_rows(columns, costs, any_streamed)

    def _keep_rows(self, columns, costs, any_streamed):
        room = max(0, self.max_rows - self._held())
        if any_streamed:
            rows = _fold_columns.streamed_rows(columns, costs, room)
            self._streamed += rows
        else:
            rows = _fold_columns.plain_rows(columns, costs, room)
            self._plain += rows
        not_kept = len(columns[0]) - len(rows)
        self._pending_not_kept += not_kept
        self.not_kept += not_kept

    def _fold_one(self, item, cost_of, low, high):
        try:
            ts, model = item.ts, item.model
            prompt, completion = item.prompt_tokens, item.completion_tokens
            if not low <= ts <= high:
                raise _bad_ts(ts)
            cost = cost_of(model, prompt, completion, item.llm) if prompt or completion else 0.0
            status = "error" if item.error else "ok"
            row = item.row(cost, status) if self._held() < self.max_rows else None
        except Exception as exc:  # only this record is lost: counted and reported once
            self._drop(item.operation, exc)
            return
        if row is None:
            self._pending_not_kept += 1
            self.not_kept += 1
        else:
            self._rows.append(row)
        key = (int(ts // FINEST_S) * FINEST_S, item.operation, model or "", status)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = Aggregate(ts)
        group.add(ts, item.duration_s, prompt, completion, item.cache_hit, cost)
        if item.llm is not None or item.t_first is not None:
            group.add_llm(*_llm_fields(item))

    def _held(self):
        return len(self._rows) + len(self._plain) + len(self._streamed)

    def _drop(self, operation, exc):
        self.dropped += 1
        self._pending_dropped += 1
        self._warn_once("record", f"dropped a bad record of {operation!r}: {exc}")

    def drain(self):
        """Take everything recorded since the last drain as one Batch (aggregates, rows, instruments)."""
        with signals.holding(self._fold_lock):
            self._fold_all()
            instruments = self._instruments
            for delta in self.registry.take():
                _combine(instruments, delta)
            batch = Batch(
                (),
                instruments.values(),
                self._groups,
                self._rows,
                self._pending_not_kept,
                self._pending_dropped,
                self._plain,
                self._streamed,
            )
            self._groups, self._rows, self._plain, self._streamed, self._instruments = {}, [], [], [], {}
            self._pending_not_kept = self._pending_dropped = 0
        return batch

    def _give_back(self, batch):
        with signals.holding(self._fold_lock):
            self._groups = merge_into(batch.aggregates, self._groups)
            kinds = [batch.rows + self._rows, batch.streamed + self._streamed, batch.plain + self._plain]
            # The oldest rows make way: full rows first, then streamed, then plain ones.
            excess = max(0, sum(map(len, kinds)) - self.max_rows)
            self._rows, self._streamed, self._plain = _trim_front(kinds, excess)
            self._pending_not_kept += batch.not_kept + excess
            self._pending_dropped += batch.dropped
            self.not_kept += excess
            for delta in batch.instruments:
                _combine(self._instruments, delta)

    def flush(self, deadline=None):
        """Write everything recorded so far; return how many operations were written (0 on failure)."""
        with signals.holding(self._flush_lock):
            batch = self.drain()
            if not batch:
                return 0
            try:
                self.writer(batch) if deadline is None else self.writer(batch, deadline)
            except Exception as exc:  # a broken store must never break the app
                self._give_back(batch)
                self.failures += 1
                self._warn_once("write", f"flush failed ({type(exc).__name__}: {exc}); keeping the data")
                return 0
            return sum(agg.count for agg in batch.aggregates.values())

    def _warn_once(self, kind, message):
        if kind not in self._warned:
            self._warned.add(kind)
            warnings.warn(f"devkit: metrics {message}", RuntimeWarning)

    @contextlib.contextmanager
    def paused(self):
        """Hold back the background flusher while the block runs, so a caller can drain() by hand."""
        with self._flush_lock:
            yield self

    def stats(self):
        """Counters about the recorder: queued, pending raw rows, bad records dropped, raw rows not kept,
        failed writes."""
        return {
            "queued": len(self.queue) + len(self.rare),
            "pending": self._held(),
            "dropped": self.dropped,
            "not_kept": self.not_kept,
            "failures": self.failures,
        }

    def close(self):
        """Stop the flusher and write what is left within EXIT_WAIT_S, else spill it (safe to call twice)."""
        self._stop.set()
        self._wake.set()
        self.flush_or_spill()

    def flush_or_spill(self):
        """Write what is recorded within EXIT_WAIT_S; keep what could not be written in a spill file."""
        with signals.deferred():
            self._flush_or_spill()

    def _flush_or_spill(self):
        deadline = time.monotonic() + EXIT_WAIT_S
        held = self._flush_lock.acquire(timeout=EXIT_WAIT_S)
        try:
            if held:
                self.flush(deadline)
            batch = self.drain()
            if batch:
                self.spiller(batch)
        except Exception as exc:  # exit must never raise into the app's shutdown
            self._warn_once("exit", f"could not keep the last operations ({type(exc).__name__}: {exc})")
        finally:
            if held:
                self._flush_lock.release()

    def before_fork(self):
        """Wait (up to a second) for a flush in progress, so no thread is inside sqlite at the fork."""
        # Bounded: under a CPU-bound app thread a flush can crawl, and fork() must not hang on it.
        self._fork_held = self._flush_lock.acquire(timeout=FORK_WAIT_S)

    def after_fork_in_parent(self):
        """Let the parent's flushes go on after a fork."""
        if self._fork_held:
            self._fork_held = False
            self._flush_lock.release()

    def after_fork_in_child(self):
        """A forked child starts with an empty queue, no flusher and fresh locks."""
        self.queue.clear()
        self.rare.clear()
        self._reset_state()
        self.registry.after_fork()


def _combine(merged, delta):
    key = (delta.name, delta.labels)
    seen = merged.get(key)
    if seen is None:
        merged[key] = delta
    elif delta.kind == "counter":
        seen.value += delta.value
    elif delta.kind == "gauge":
        seen.value = delta.value
    elif delta.sketch is not None:
        seen.sketch = seen.sketch.merge(delta.sketch) if seen.sketch is not None else delta.sketch


def _bad_ts(ts):
    return ValueError(f"ts {ts!r} is not unix seconds from 2000 to 5 minutes from now")


def _llm_fields(item):
    llm = item.llm
    cached, reasoning = (llm[0], llm[1]) if llm is not None else (0, 0)
    stream = item.streaming()
    return cached, reasoning, None if stream is None else stream[:3]


def _memo(cost_of):
    # Most operations repeat (model, prompt, completion): looking the cost up again costs more.
    known = {}

    def cost(model, prompt, completion, llm=None):
        cached = 0 if llm is None else llm[0]
        key = (model, prompt, completion, cached)
        value = known.get(key)
        if value is None:
            value = float(
                cost_of(model, prompt, completion, cached) if cached else cost_of(model, prompt, completion)
            )
            if not math.isfinite(value):
                raise ValueError(f"cost of {model!r} is not finite")
            known[key] = value
        return value

    return cost


def _flush_interval_s():
    # Loads the config in the caller's thread, so the flusher never holds the config lock at a fork.
    interval_s = float(metrics_setting("flush_interval_s", SECTIONS["metrics"]["flush_interval_s"].default))
    return interval_s if sqlite_available() else max(interval_s, SPILL_INTERVAL_S)


def _cost_function():
    try:
        return current_config().cost
    except Exception:  # cost is an estimate: a config problem must not lose the operations
        return lambda model, prompt, completion, cached=0: 0.0


REGISTRY = Registry()
RECORDER = Recorder(REGISTRY)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=RECORDER.before_fork,
        after_in_parent=RECORDER.after_fork_in_parent,
        after_in_child=RECORDER.after_fork_in_child,
    )

"""The process-wide recorder: an in-memory queue of operations, a background flusher and exit hooks.

Apps only append to ``queue``; a daemon thread drains it (plus instrument deltas)
every ``metrics.flush_interval_s`` into one ``store.write_batch``. A failed write
keeps the data for the next try (bounded) and warns once; it never raises into the app.
"""

import atexit
import collections
import contextlib
import itertools
import os
import sys
import threading
import warnings

from devkit.core.records import Batch
from devkit.metrics.instruments import Registry
from devkit.metrics.settings import current_config, metrics_setting
from devkit.store import open_store

# Everything the flusher needs is imported above, at import time: a module import in
# flight in a background thread when the app forks leaves its lock held in the child.

MAX_PENDING_OPERATIONS = 100_000
MAX_QUEUED_OPERATIONS = 500_000
FORK_WAIT_S = 1.0
DEFAULT_FLUSH_INTERVAL_S = 1.0


def write_to_store(batch):
    """Write ``batch`` to the store of the process's config in one transaction."""
    with open_store(current_config()) as store:
        store.write_batch(batch)


class Recorder:
    """Collects operations and instrument deltas in memory and flushes them as Batches."""

    def __init__(self, registry, writer=write_to_store):
        self.registry = registry
        self.writer = writer
        self.queue = collections.deque()
        self.max_pending = MAX_PENDING_OPERATIONS
        self.max_queued = MAX_QUEUED_OPERATIONS
        self._reset_state()

    def _reset_state(self):
        self.running = False
        self.dropped = 0
        self.failures = 0
        self._pending_ops = []
        self._pending_instruments = {}
        self._warned = False
        self._start_lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._drain_lock = threading.Lock()
        self._stop = threading.Event()
        self._hooks_pid = None
        self._fork_held = False
        # A random per-process prefix plus a counter: unique ids without uuid4's cost per operation.
        self._id_prefix = os.urandom(8).hex()
        self._seq = itertools.count(1)

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

    def _run(self, interval_s):
        stop = self._stop
        while not stop.wait(interval_s):
            self.flush()

    def drain(self):
        """Take every queued operation and instrument change since the last drain, as a Batch."""
        with self._drain_lock:
            queue = self.queue
            self._drop_excess(queue)
            items = [queue.popleft() for _ in range(len(queue))]
            return Batch(self._records(items), self.registry.take())

    def _drop_excess(self, queue):
        # An app recording faster than the store can write must not grow memory without bound.
        excess = len(queue) - self.max_queued
        if excess > 0:
            for _ in range(excess):
                queue.popleft()
            self.dropped += excess
            self._warn_once(f"dropped the {excess} oldest operations: recorded faster than the store writes")

    def _records(self, items):
        if not items:
            return []
        cost_of = _cost_function()
        prefix, seq = self._id_prefix, self._seq
        records = []
        for item in items:
            tokens = item.prompt_tokens or item.completion_tokens
            cost = cost_of(item.model, item.prompt_tokens, item.completion_tokens) if tokens else 0.0
            records.append(item.to_record(f"{prefix}{next(seq):016x}", cost))
        return records

    def flush(self):
        """Write everything recorded so far; return how many operations were written (0 on failure)."""
        with self._flush_lock:
            batch = self._with_pending(self.drain())
            if not batch:
                return 0
            try:
                self.writer(batch)
            except Exception as exc:  # a broken store must never break the app
                self._keep(batch, exc)
                return 0
            self._pending_ops, self._pending_instruments = [], {}
            return len(batch.operations)

    def _with_pending(self, batch):
        if not self._pending_ops and not self._pending_instruments:
            return batch
        merged = dict(self._pending_instruments)
        for delta in batch.instruments:
            _combine(merged, delta)
        return Batch(self._pending_ops + batch.operations, merged.values())

    def _keep(self, batch, exc):
        self.failures += 1
        operations = batch.operations
        excess = len(operations) - self.max_pending
        if excess > 0:
            self.dropped += excess
            operations = operations[excess:]
        self._pending_ops = operations
        self._pending_instruments = {}
        for delta in batch.instruments:
            _combine(self._pending_instruments, delta)
        self._warn_once(f"flush failed ({type(exc).__name__}: {exc}); keeping {len(operations)} operations")

    def _warn_once(self, message):
        if not self._warned:
            self._warned = True
            warnings.warn(f"devkit: metrics {message}", RuntimeWarning)

    @contextlib.contextmanager
    def paused(self):
        """Hold back the background flusher while the block runs, so a caller can drain() by hand."""
        with self._flush_lock:
            yield self

    def stats(self):
        """Counters about the recorder itself: queued, pending (unwritten), dropped, failures."""
        return {"queued": len(self.queue), "pending": len(self._pending_ops),
                "dropped": self.dropped, "failures": self.failures}  # fmt: skip

    def close(self):
        """Stop the flusher and write what is left (runs at exit; safe to call twice)."""
        self._stop.set()
        self.flush()

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


def _flush_interval_s():
    # Loads the config in the caller's thread, so the flusher never holds the config lock at a fork.
    return float(metrics_setting("flush_interval_s", DEFAULT_FLUSH_INTERVAL_S))


def _cost_function():
    try:
        return current_config().cost
    except Exception:  # cost is an estimate: a config problem must not lose the operations
        return lambda model, prompt, completion: 0.0


REGISTRY = Registry()
RECORDER = Recorder(REGISTRY)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=RECORDER.before_fork, after_in_parent=RECORDER.after_fork_in_parent,
                        after_in_child=RECORDER.after_fork_in_child)  # fmt: skip

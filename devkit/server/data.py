"""Every metrics read the server makes, in one place, all from ``devkit.snapshot.take``.

``/api/metrics`` is exactly ``devkit status --json`` for the same store and clock; ``/metrics``,
``/api/tokens`` and the dashboard render the same Snapshot. Answers are kept for ``ttl_s``
seconds so many clients (or one dashboard tab polling) cost one read; a write through the
server forgets them.
"""

import threading
import time

from devkit.output import to_json

DEFAULT_TTL_S = 1.0


class MetricsReader:
    """Reads the store of ``cfg`` (never creating it) and caches answers for ``ttl_s`` seconds."""

    def __init__(self, cfg, clock=time.time, ttl_s=DEFAULT_TTL_S, monotonic=time.monotonic):
        self.cfg = cfg
        self.clock = clock
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._cache = {}

    def cached(self, key, produce):
        """The answer cached under ``key`` while fresh, else ``produce()`` (one producer at a time)."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > self._monotonic():
                return hit[1]
            value = produce()
            self._cache[key] = (self._monotonic() + self.ttl_s, value)
            return value

    def forget(self):
        """Drop every cached answer (after a write or a reset)."""
        with self._lock:
            self._cache.clear()

    def snapshot(self, since="all", recent_limit=None):
        """A Snapshot of the store at the clock's now (cached)."""
        from devkit.snapshot import take

        return self.cached(
            ("snapshot", since, recent_limit), lambda: take(self.cfg, since, self.clock(), recent_limit)
        )

    def status(self):
        """The ``devkit status --json`` dict."""
        return self.snapshot().to_dict()

    def status_json(self):
        """``devkit status --json`` as the bytes it prints."""
        return self.cached("status", lambda: (to_json(self.status()) + "\n").encode("utf-8"))

    def exposition(self, fmt):
        """The Prometheus (``prom``) or OpenMetrics exposition of the whole store, as bytes."""
        from devkit.export import render

        return self.cached(("export", fmt), lambda: "".join(render(self.snapshot(), fmt)).encode("utf-8"))

    def tokens(self):
        """Tokens and cost by model and by operation (as ``devkit metrics tokens --json``)."""
        return self.snapshot().token_rows()

    def timeseries(self, window):
        """Per-interval requests, errors, tokens, cost and percentiles over the last ``window`` (``1h``)."""
        snap = self.snapshot(window)
        return {
            "window": window,
            "since_ts": snap.since_ts,
            "now": snap.generated_at,
            "resolution_s": snap.history_resolution_s,
            "points": snap.history,
        }

    def operations(self, limit):
        """The newest ``limit`` operations, newest first."""
        return self.snapshot(recent_limit=limit).to_dict()["recent"]

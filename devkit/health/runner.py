"""Run checks concurrently in daemon threads, each under its timeout, all under one deadline.

Threads, never signals: a hung check is abandoned (not joined) and reported as
``fail`` "timed out after X s", so the answer is never later than the deadline.
A cache keeps the last report for a TTL (one for pass, one for warn/fail) and
concurrent callers asking for the same checks share one run (single flight).
"""

import threading
import time

from devkit.health.core import aggregate


class Report:
    """The results of one run, in the order the checks were given, and the overall status."""

    def __init__(self, results, started_ts, duration_s):
        self.results = results
        self.status = aggregate(results)
        self.started_ts = started_ts
        self.duration_s = duration_s

    def counts(self):
        """``{"pass": n, "warn": n, "fail": n}``."""
        counts = {"pass": 0, "warn": 0, "fail": 0}
        for result in self.results:
            counts[result.status] += 1
        return counts


class _Slot:
    def __init__(self):
        self.done = threading.Event()
        self.result = None


def _start(check, clock):
    slot = _Slot()

    def work():
        slot.result = check.check(clock)
        slot.done.set()

    threading.Thread(target=work, name=f"devkit-health-{check.name}", daemon=True).start()
    return slot


def run_checks(checks, deadline_s, default_timeout_s=None, clock=time.time, scrub=str):
    """Run ``checks`` at once; return a Report no later than ``deadline_s`` seconds from now."""
    started, started_ts = time.monotonic(), clock()
    slots = [_start(check, clock) for check in checks]
    results = []
    for check, slot in zip(checks, slots):
        own = check.timeout_s if check.timeout_s is not None else default_timeout_s
        limit = deadline_s if own is None else min(own, deadline_s)
        slot.done.wait(max(0.0, started + limit - time.monotonic()))
        result = slot.result if slot.done.is_set() else check.timed_out(limit, clock)
        results.append(result.scrubbed(scrub))
    return Report(results, started_ts, time.monotonic() - started)


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.report = None


class CachedRunner:
    """Runs checks through a TTL cache; concurrent callers with the same key share one run."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._cache = {}
        self._flights = {}

    def run(self, key, produce, ttl_pass_s=0.0, ttl_fail_s=0.0):
        """Return a fresh-enough cached Report for ``key`` or the one ``produce()`` makes."""
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            return flight.report if flight.report is not None else produce()
        try:
            flight.report = produce()
        finally:
            self._land(key, flight, ttl_pass_s, ttl_fail_s)
        return flight.report

    def _land(self, key, flight, ttl_pass_s, ttl_fail_s):
        with self._lock:
            del self._flights[key]
            if flight.report is not None:
                ttl = ttl_pass_s if flight.report.status == "pass" else ttl_fail_s
                if ttl > 0:
                    self._cache[key] = (self._clock() + ttl, flight.report)
        flight.done.set()

    def clear(self):
        """Forget every cached report."""
        with self._lock:
            self._cache.clear()

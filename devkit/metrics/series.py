"""One labelled series of a Counter, Gauge or Histogram: the hot path of in-process metrics.

Each series guards its state with a plain lock held only for the update itself.
The recorder takes what changed since the last flush with ``take()``.
"""

import itertools
import math
import threading
import time
import warnings
from array import array

from devkit.core import sketch as _sk
from devkit.core.records import InstrumentDelta
from devkit.errors import UsageError

_INV_LOG_GAMMA = _sk._INV_LOG_GAMMA
_SLOT_OFFSET = _sk.MIN_INDEX - 1
_MIN_VALUE = _sk.MIN_VALUE
_MAX_VALUE = _sk.MAX_VALUE
_WARNED_NON_FINITE = []
_SPILL = 256  # CPython caches the ints -5..256, so list cells below this allocate nothing


class CounterSeries:
    """A monotonically increasing count."""

    __slots__ = ("family", "labels", "_ticks", "_spent", "_extra", "_flushed", "_lock")

    def __init__(self, family, labels):
        self.family = family
        self.labels = labels
        self._lock = threading.Lock()
        # next() on itertools.count is one C call, atomic under the GIL: inc() by 1 takes no lock.
        self._ticks = itertools.count()
        self._spent = 0
        self._extra = 0
        self._flushed = 0

    def inc(self, amount=1):
        """Add ``amount`` (>= 0, default 1)."""
        if amount == 1:
            next(self._ticks)
            return
        if not (amount >= 0 and math.isfinite(amount)):
            raise UsageError(
                f"counter {self.family.name}: inc() amount must be finite and >= 0, got {amount!r}"
            )
        with self._lock:
            self._extra += amount

    def _total(self):
        # Reading the tick count also advances it: count our own reads out.
        ticks = next(self._ticks) - self._spent
        self._spent += 1
        return ticks + self._extra

    @property
    def value(self):
        """The count since this process started."""
        with self._lock:
            return self._total()

    def take(self):
        """The increment since the last take, as an InstrumentDelta, or None when unchanged."""
        with self._lock:
            total = self._total()
            delta, self._flushed = total - self._flushed, total
        return self.family._delta(self.labels, value=delta) if delta else None

    def after_fork(self):
        """Start clean in a forked child: the parent reports what it had."""
        self._lock = threading.Lock()
        self._flushed = self._total()


class GaugeSeries:
    """A value that goes up and down; the store keeps the last one written."""

    __slots__ = ("family", "labels", "_value", "_dirty", "_lock")

    def __init__(self, family, labels):
        self.family = family
        self.labels = labels
        self._lock = threading.Lock()
        self._value = 0.0
        self._dirty = False

    def set(self, value):
        """Set the gauge to ``value`` (a finite number)."""
        value = _finite(self, "set", value)
        with self._lock:
            self._value = value
            self._dirty = True

    def inc(self, amount=1):
        """Add ``amount`` (may be negative)."""
        amount = _finite(self, "inc", amount)
        with self._lock:
            self._value += amount
            self._dirty = True

    def dec(self, amount=1):
        """Subtract ``amount``."""
        self.inc(-float(amount))

    @property
    def value(self):
        """The current value."""
        return self._value

    def take(self):
        """The current value as an InstrumentDelta when it changed since the last take, else None."""
        with self._lock:
            if not self._dirty:
                return None
            self._dirty = False
            value = self._value
        return self.family._delta(self.labels, value=value)

    def after_fork(self):
        """Start clean in a forked child."""
        self._lock = threading.Lock()
        self._dirty = False


class HistogramSeries:
    """Observations kept as log-bucket counts plus exact sum, min and max (no raw samples)."""

    __slots__ = ("family", "labels", "_counts", "_spilled", "_sum", "_min", "_max", "_lock")

    def __init__(self, family, labels):
        self.family = family
        self.labels = labels
        self._lock = threading.Lock()
        self._clear()

    def _clear(self):
        # A list updates ~2x faster than Sketch's array on the hot path. Its cells stay below
        # _SPILL, small ints CPython shares, and carry into a fixed array: memory never grows.
        self._counts = [0] * _sk.BUCKETS
        self._spilled = array("q", bytes(8 * _sk.BUCKETS))
        self._sum = 0.0
        self._min = math.inf
        self._max = -math.inf

    def observe(self, value, _log=math.log2, _ceil=math.ceil):
        """Record one value (seconds for durations); NaN and infinities are ignored with one warning."""
        # Inlined bucket_slot(): the same slot, at a fraction of the cost.
        if _MIN_VALUE < value < _MAX_VALUE:
            slot = _ceil(_log(value) * _INV_LOG_GAMMA) - _SLOT_OFFSET
        else:
            slot = _edge_slot(self, value)
            if slot is None:
                return
        lock = self._lock
        lock.acquire()
        try:
            count = self._counts[slot] + 1
            if count < _SPILL:
                self._counts[slot] = count
            else:
                self._counts[slot] = 0
                self._spilled[slot] += count
            self._sum += value
            if value < self._min:
                self._min = value
            if value > self._max:
                self._max = value
        finally:
            lock.release()

    def time(self):
        """A context manager and decorator that observes the elapsed seconds."""
        return Timer(self)

    def _sketch(self):
        sketch = _sk.Sketch()
        sketch.counts = array("q", map(int.__add__, self._spilled, self._counts))
        sketch.count = sum(sketch.counts)
        sketch.sum, sketch.min, sketch.max = self._sum, self._min, self._max
        return sketch

    def take(self):
        """Observations since the last take as an InstrumentDelta with a Sketch, or None."""
        with self._lock:
            if self._min > self._max:
                return None
            sketch = self._sketch()
            self._clear()
        return self.family._delta(self.labels, sketch=sketch)

    def pending(self):
        """A Sketch (a copy) of the observations not yet taken by the recorder."""
        with self._lock:
            return _sk.Sketch().merge(self._sketch())

    def after_fork(self):
        """Start clean in a forked child."""
        self._lock = threading.Lock()
        self._clear()


def _edge_slot(series, value):
    if not math.isfinite(value):
        # Never raise into the app for one odd measurement: skip it and say so once.
        if not _WARNED_NON_FINITE:
            _WARNED_NON_FINITE.append(series.family.name)
            warnings.warn(
                f"devkit: histogram {series.family.name}: ignored observe({value!r})", RuntimeWarning
            )
        return None
    return _sk.bucket_slot(value)


def _finite(series, method, value):
    value = float(value)
    if not math.isfinite(value):
        raise UsageError(f"gauge {series.family.name}: {method}() needs a finite number, got {value!r}")
    return value


class Timer:
    """Times a block or each call of a function into a histogram series."""

    __slots__ = ("series", "_t0")

    def __init__(self, series):
        self.series = series

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.series.observe(time.perf_counter() - self._t0)
        return False

    def __call__(self, func):
        """Use as a decorator: every call of ``func`` is timed."""
        import functools

        series = self.series

        @functools.wraps(func)
        def timed(*args, **kwargs):
            with Timer(series):
                return func(*args, **kwargs)

        return timed


def make_delta(family, labels, value=0.0, sketch=None):
    """An InstrumentDelta for one series of ``family`` with label pairs in declared order."""
    pairs = tuple(zip(family.label_names, labels))
    return InstrumentDelta(family.name, family.kind, family.help, pairs, value, sketch)

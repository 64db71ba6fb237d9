"""Counter, Gauge and Histogram with labels, a cap on label sets, and the registry that names them."""

import re
import threading

from devkit.errors import UsageError
from devkit.metrics.series import CounterSeries, GaugeSeries, HistogramSeries, make_delta
from devkit.metrics.settings import metrics_setting

OVERFLOW = "__overflow__"
DEFAULT_MAX_LABEL_SETS = 1000
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class _Family:
    """What the three instrument kinds share: a name, label names and one series per label set."""

    kind = ""
    series_class = None

    def __init__(self, name, help="", labels=(), max_label_sets=None):
        if not isinstance(name, str) or not _NAME.match(name):
            raise UsageError(f"metric name {name!r}: use letters, digits, '_' or ':' (not first a digit)")
        if isinstance(labels, str):
            labels = (labels,)
        bad = [label for label in labels if not isinstance(label, str) or not _LABEL.match(label)]
        if bad or len(set(labels)) != len(labels) or "le" in labels or "quantile" in labels:
            raise UsageError(f"metric {name}: invalid or repeated label names {list(labels)!r}")
        self.name = name
        self.help = help
        self.label_names = tuple(labels)
        self.max_label_sets = max_label_sets
        self.overflowed = 0
        self._lock = threading.Lock()
        self._series = {}
        self._lookup = {}
        if not self.label_names:
            self._bind_default(self._new_series(()))

    def labels(self, *values, **labels):
        """The series for one label set, by keyword (``code="200"``) or in declared order."""
        series = self._lookup.get(values or tuple(labels.items()))
        if series is None:
            series = self._resolve(values, labels)
        return series

    def _resolve(self, values, labels):
        canonical = self._canonical(values, labels)
        with self._lock:
            series = self._series.get(canonical)
            if series is None and len(self._series) >= self._cap():
                self.overflowed += 1
                return self._overflow_series()
            if series is None:
                series = self._new_series(canonical)
            self._lookup[values or tuple(labels.items())] = series
            return series

    def _canonical(self, values, labels):
        if not self.label_names:
            raise UsageError(f"metric {self.name} has no labels; use it directly")
        if values and labels:
            raise UsageError(f"metric {self.name}: give label values by keyword or by position, not both")
        if labels:
            if set(labels) != set(self.label_names):
                raise UsageError(
                    f"metric {self.name}: labels must be {list(self.label_names)}, got {list(labels)}"
                )
            return tuple(str(labels[name]) for name in self.label_names)
        if len(values) != len(self.label_names):
            raise UsageError(
                f"metric {self.name}: expected {len(self.label_names)} label values, got {len(values)}"
            )
        return tuple(str(value) for value in values)

    def _cap(self):
        if self.max_label_sets is None:
            self.max_label_sets = metrics_setting("max_label_sets", DEFAULT_MAX_LABEL_SETS)
        return self.max_label_sets

    def _overflow_series(self):
        # The fold target lives outside the cap and is never cached per folded set, so memory stays bounded.
        key = (OVERFLOW,) * len(self.label_names)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self.series_class(self, key)
        return series

    def _new_series(self, canonical):
        series = self._series[canonical] = self.series_class(self, canonical)
        return series

    def _bind_default(self, series):
        """Unlabelled metrics forward their methods straight to their one series."""

    def _delta(self, labels, value=0.0, sketch=None):
        return make_delta(self, labels, value, sketch)

    def series(self):
        """Every series of this metric (label values tuple -> series), a snapshot."""
        with self._lock:
            return dict(self._series)

    def take(self):
        """InstrumentDeltas for every series that changed since the last take."""
        deltas = [series.take() for series in self.series().values()]
        return [delta for delta in deltas if delta is not None]

    def after_fork(self):
        """Fresh locks and empty pending state in a forked child."""
        self._lock = threading.Lock()
        for series in self._series.values():
            series.after_fork()

    def _unlabelled(self, method):
        raise UsageError(
            f"metric {self.name} has labels {list(self.label_names)}: call .labels(...).{method}()"
        )

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, labels={list(self.label_names)})"


class Counter(_Family):
    """A count that only goes up: ``requests.labels(route="/chat").inc()``."""

    kind = "counter"
    series_class = CounterSeries

    def _bind_default(self, series):
        self.inc = series.inc

    def inc(self, amount=1):
        """Add ``amount`` to an unlabelled counter."""
        self._unlabelled("inc")

    @property
    def value(self):
        """The count of an unlabelled counter since the process started."""
        return self._series[()].value if not self.label_names else self._unlabelled("value")


class Gauge(_Family):
    """A value that goes up and down: ``queue_depth.set(3)``."""

    kind = "gauge"
    series_class = GaugeSeries

    def _bind_default(self, series):
        self.set, self.inc, self.dec = series.set, series.inc, series.dec

    def set(self, value):
        """Set an unlabelled gauge."""
        self._unlabelled("set")

    def inc(self, amount=1):
        """Raise an unlabelled gauge."""
        self._unlabelled("inc")

    def dec(self, amount=1):
        """Lower an unlabelled gauge."""
        self._unlabelled("dec")

    @property
    def value(self):
        """The current value of an unlabelled gauge."""
        return self._series[()].value if not self.label_names else self._unlabelled("value")


class Histogram(_Family):
    """A distribution with percentiles: ``latency.observe(0.25)`` or ``with latency.time(): ...``."""

    kind = "histogram"
    series_class = HistogramSeries

    def _bind_default(self, series):
        self.observe, self.time = series.observe, series.time

    def observe(self, value):
        """Record one value in an unlabelled histogram."""
        self._unlabelled("observe")

    def time(self):
        """Time a block or function into an unlabelled histogram."""
        self._unlabelled("time")


KINDS = {"counter": Counter, "gauge": Gauge, "histogram": Histogram}


class Registry:
    """Instruments by name; asking again for a name returns the same instrument."""

    def __init__(self):
        self._lock = threading.Lock()
        self._families = {}

    def get_or_create(self, kind, name, help="", labels=(), max_label_sets=None):
        """The instrument ``name``; UsageError when it exists with another kind or labels."""
        labels = (labels,) if isinstance(labels, str) else tuple(labels)
        with self._lock:
            family = self._families.get(name)
            if family is None:
                family = self._families[name] = KINDS[kind](name, help, labels, max_label_sets)
            elif family.kind != kind or family.label_names != labels:
                raise UsageError(
                    f"metric {name} is already a {family.kind} with labels {list(family.label_names)}; "
                    f"cannot register it as a {kind} with labels {list(labels)}"
                )
            return family

    def families(self):
        """Every registered instrument, a snapshot list."""
        with self._lock:
            return list(self._families.values())

    def take(self):
        """InstrumentDeltas of every instrument that changed since the last take."""
        deltas = []
        for family in self.families():
            deltas.extend(family.take())
        return deltas

    def after_fork(self):
        """Reset locks and pending state of every instrument in a forked child."""
        self._lock = threading.Lock()
        for family in self._families.values():
            family.after_fork()

"""The public metrics verbs: ``track``, ``counter``, ``gauge``, ``histogram`` and ``flush``.

Everything records into one process-wide recorder whose background thread
writes to the store of the current config (see ``devkit.metrics.recorder``).
"""

from devkit.metrics.recorder import RECORDER, REGISTRY
from devkit.metrics.track import track

__all__ = ["track", "counter", "gauge", "histogram", "flush", "drain"]


def counter(name, help="", labels=(), max_label_sets=None):
    """The Counter ``name`` (created on first use; same kind and labels required after)."""
    return _instrument("counter", name, help, labels, max_label_sets)


def gauge(name, help="", labels=(), max_label_sets=None):
    """The Gauge ``name`` (created on first use)."""
    return _instrument("gauge", name, help, labels, max_label_sets)


def histogram(name, help="", labels=(), max_label_sets=None):
    """The Histogram ``name`` (created on first use); values in seconds for durations."""
    return _instrument("histogram", name, help, labels, max_label_sets)


def _instrument(kind, name, help, labels, max_label_sets):
    family = REGISTRY.get_or_create(kind, name, help, labels, max_label_sets)
    # Started here rather than on the hot path: an app using only instruments must flush too.
    if not RECORDER.running:
        RECORDER.start()
    return family


def flush():
    """Write everything recorded so far to the store now; return how many operations were written."""
    return RECORDER.flush()


def drain():
    """Take everything recorded so far as a Batch without writing it (for tests and custom sinks)."""
    return RECORDER.drain()

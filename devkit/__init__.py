"""devkit: metrics with percentiles, health checks, exporters and safe maintenance.

The public verbs are few and load their machinery on first use, so importing
devkit (and ``devkit --help``) stays cheap::

    with devkit.track("chat", model="llama3") as op:
        op.tokens(prompt=12, completion=80)

``devkit.flush()`` writes everything recorded so far to the store now (it also happens every
``metrics.flush_interval_s``, at exit, and on SIGTERM/SIGHUP) and returns how many operations it wrote.
"""

__version__ = "0.1.0"
__all__ = [
    "track",
    "counter",
    "gauge",
    "histogram",
    "flush",
    "health",
    "serve",
    "serve_in_thread",
    "wsgi_app",
    "asgi_app",
    "__version__",
]

_LAZY = {
    "track": ("devkit.metrics.api", "track"),
    "counter": ("devkit.metrics.api", "counter"),
    "gauge": ("devkit.metrics.api", "gauge"),
    "histogram": ("devkit.metrics.api", "histogram"),
    "flush": ("devkit.metrics.api", "flush"),
    "serve": ("devkit.server", "serve"),
    "serve_in_thread": ("devkit.server", "serve_in_thread"),
    "wsgi_app": ("devkit.server", "wsgi_app"),
    "asgi_app": ("devkit.server", "asgi_app"),
}


def __getattr__(name):
    if name == "health":
        import importlib

        return importlib.import_module("devkit.health")
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'devkit' has no attribute {name!r}")

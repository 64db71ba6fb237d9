"""``devkit serve``: the dashboard, the JSON API, ``/metrics`` and ``/health/*`` — one router, three doors.

``serve``/``serve_in_thread`` run it on ``http.server``; ``wsgi_app``/``asgi_app`` mount the same
routes in an app's own web server. Each door is imported only when used.
"""

__all__ = ["serve", "serve_in_thread", "wsgi_app", "asgi_app"]
_DOORS = {"serve": "serving", "serve_in_thread": "serving", "wsgi_app": "wsgi", "asgi_app": "asgi"}


def __getattr__(name):
    if name in _DOORS:
        import importlib

        return getattr(importlib.import_module(f"devkit.server.{_DOORS[name]}"), name)
    raise AttributeError(f"module 'devkit.server' has no attribute {name!r}")

"""Debug tools: request recording and replay, a token estimator and checker, dependency report.

An app that wants ``devkit debug replay`` calls :func:`record_request` after a model call;
it records only when the config says ``debug.record_requests = true``.
"""

from devkit.debug.records import record_request

__all__ = ["record_request"]

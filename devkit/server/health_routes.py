"""``/health/*`` probes and ``/api/health``: IETF health+json, 200 for pass/warn, 503 for fail.

Checks run through the health registry (cached for its TTL, one run shared by concurrent
probes). Without the token a probe shows only its status.
"""

import json

from devkit.server.app import Response

HEALTH_TYPE = "application/health+json"


def run_health(cfg, mode="all", names=None):
    """Run the checks (cached per health.cache_ttl_*); save the full ``all`` report for the dashboard badges.

    Returns ``(report, document)``; the one place the server runs checks.
    """
    from devkit.health import registry
    from devkit.health.render import health_json

    report = registry.run(config=cfg, names=names, mode=mode)
    document = health_json(report, description=f"health of {cfg.project_name}")
    if mode == "all" and not names:
        _save_once(cfg, report, document)
    return report, document


_SAVED = {}


def _save_once(cfg, report, document):
    # A cached report is saved once, not once per probe that reads it.
    if _SAVED.get(id(cfg)) is report:
        return
    from devkit.health.record import save_within
    from devkit.health.suite import health_settings

    # The same bounded save as `devkit health`: a busy store never holds a probe past the deadline.
    if save_within(cfg, document, health_settings(cfg)["deadline_s"]) is None:
        _SAVED[id(cfg)] = report


def _answer(app, request, status, document):
    body = document if app.authorized(request) else {"status": status}
    return _health_response(503 if status == "fail" else 200, body)


def _health_response(code, body):
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n"
    return Response(code, text.encode("utf-8"), HEALTH_TYPE)


def _probe(app, request, mode, names=None, nothing=None):
    if names is not None and not names:
        return _answer(app, request, "pass", {"status": "pass", "output": nothing, "checks": {}})
    report, document = run_health(app.cfg, mode, names)
    return _answer(app, request, report.status, document)


def alive(app, request):
    """``GET /health``: the process answers; no checks run."""
    return _answer(app, request, "pass", {"status": "pass"})


def live(app, request):
    """``GET /health/live``: liveness checks only."""
    return _probe(app, request, "live")


def ready(app, request):
    """``GET /health/ready``: every critical check."""
    return _probe(app, request, "ready")


def models(app, request):
    """``GET /health/models``: the configured model endpoints."""
    return _probe(app, request, "all", [f"model.{m['name']}" for m in app.cfg.models], "no models configured")


def storage(app, request):
    """``GET /health/storage``: free space and writability of the configured storage paths."""
    from devkit.health.storage import storage_checks

    return _probe(
        app, request, "all", [c.name for c in storage_checks(app.cfg)], "no storage paths configured"
    )


def api_health(app, request):
    """``GET /api/health``: every check's full report (always 200; the status is in the body)."""
    document = run_health(app.cfg, "all")[1]
    app.reader.forget()
    return _health_response(200, document)

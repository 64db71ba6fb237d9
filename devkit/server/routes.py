"""The route table: path -> {method: handler(app, request) -> Response}."""


def route_table():
    """Every route of the server; a path not here is 404, a method not listed is 405."""
    from devkit.server import api, dashboard, health_routes

    page = {"GET": dashboard.page}
    return {
        "/": page,
        "/dashboard": page,
        "/metrics": {"GET": api.prometheus},
        "/health": {"GET": health_routes.alive},
        "/health/live": {"GET": health_routes.live},
        "/health/ready": {"GET": health_routes.ready},
        "/health/models": {"GET": health_routes.models},
        "/health/storage": {"GET": health_routes.storage},
        "/api/metrics": {"GET": api.metrics},
        "/api/timeseries": {"GET": api.timeseries},
        "/api/operations": {"GET": api.operations},
        "/api/tokens": {"GET": api.tokens},
        "/api/health": {"GET": health_routes.api_health},
        "/api/events": {"POST": api.events},
        "/api/metrics/reset": {"POST": api.reset},
    }

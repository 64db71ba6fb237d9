"""The JSON API and ``/metrics``: reads through the MetricsReader, writes through the store."""

import json

from devkit.server.app import JSON_TYPE, Response, error_response, json_response

MAX_OPERATIONS = 1000
MIN_WINDOW_S, MAX_WINDOW_S = 60.0, 7 * 86400.0


def metrics(app, request):
    """``GET /api/metrics``: byte for byte what ``devkit status --json`` prints."""
    return Response(200, app.reader.status_json(), JSON_TYPE)


def prometheus(app, request):
    """``GET /metrics``: Prometheus text 0.0.4, or OpenMetrics when the Accept header prefers it."""
    from devkit.export.promtext import negotiate

    fmt, content_type = negotiate(request.headers.get("accept"))
    return Response(200, app.reader.exposition(fmt), content_type)


def tokens(app, request):
    """``GET /api/tokens``: tokens and cost by model and by operation."""
    return json_response(200, app.reader.tokens())


def timeseries(app, request):
    """``GET /api/timeseries?window=1h``: per-interval requests, errors, tokens, cost and percentiles."""
    from devkit.errors import UsageError
    from devkit.util import parse_duration

    text = request.query.get("window", "1h")
    try:
        window_s = parse_duration(text, "window")
    except UsageError as exc:
        return error_response(400, exc.message, field="window")
    if not MIN_WINDOW_S <= window_s <= MAX_WINDOW_S:
        return error_response(400, f"window: expected 1m to 7d, got {text!r}", field="window")
    return json_response(200, app.reader.timeseries(text))


def operations(app, request):
    """``GET /api/operations?limit=50``: the newest operations, newest first."""
    text = request.query.get("limit", "50")
    if not text.isdigit() or not 1 <= int(text) <= MAX_OPERATIONS:
        return error_response(
            400, f"limit: expected a whole number from 1 to {MAX_OPERATIONS}, got {text!r}", field="limit"
        )
    return json_response(200, {"operations": app.reader.operations(int(text))})


def events(app, request):
    """``POST /api/events``: one event or a list; all are written or (on any bad one) none."""
    from devkit.core.events import EventError, validate_event

    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return error_response(400, f"json: invalid JSON body: {exc}", field="json", index=None)
    items = data if isinstance(data, list) else [data]
    now = app.clock()
    records = []
    for index, item in enumerate(items):
        try:
            records.append(validate_event(item, now))
        except EventError as exc:
            return error_response(
                400, f"event {index}: {exc.problem}", field=exc.problem.split(":")[0], index=index
            )
    _write(app, records)
    return json_response(202, {"accepted": len(records), "rejected": 0})


def _write(app, records):
    from devkit.core.records import Batch
    from devkit.store import open_store

    if records:
        with open_store(app.cfg, clock=app.clock) as store:
            store.write_batch(Batch(records))
        app.reader.forget()


def reset(app, request):
    """``POST /api/metrics/reset``: zero what readers see; only on a server that has a token."""
    import os

    from devkit.store import open_store, store_path

    if app.token is None:
        return error_response(403, "reset needs a token: set server.token and send it as Bearer")
    if not os.path.exists(store_path(app.cfg)):
        return json_response(200, {"reset": False, "reset_ts": None})
    with open_store(app.cfg, clock=app.clock) as store:
        store.reset()
        data = {"reset": True, "reset_ts": store.reset_ts}
    app.reader.forget()
    return json_response(200, data)

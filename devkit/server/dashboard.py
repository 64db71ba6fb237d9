"""The dashboard page: package data filled with the first snapshot, so the numbers show without JavaScript.

Every value goes in HTML-escaped (and the JSON for the script with ``<``, ``>`` and ``&`` escaped);
the page's script sets data only as text. Scripts and styles run by a per-response nonce.
"""

import functools
import html
import json
import pkgutil
import re
import secrets
import time

from devkit.server.app import Response

POLL_MS = 3000
HEALTH_EVERY_POLLS = 5
CHART_POINTS = 60
_NUMERIC = ("int", "ms", "pct", "money", "rate", "num")
_KPIS = [
    ("requests", "requests", "status.totals.requests", "int"),
    ("errors", "errors", "status.totals.errors", "int"),
    ("error-rate", "error rate", "status.totals.error_rate", "pct"),
    ("p50", "p50", "status.latency_ms.p50", "ms"),
    ("p95", "p95", "status.latency_ms.p95", "ms"),
    ("p99", "p99", "status.latency_ms.p99", "ms"),
    ("tokens", "tokens", "status.totals.total_tokens", "int"),
    ("cost", "cost (est.)", "status.totals.cost", "money"),
    ("rate", "requests/min", "status.rate_per_min", "rate"),
]
_TIME = {"label": "time (UTC)", "key": "ts", "fmt": "time"}
TABLES = [
    {
        "id": "table-latency",
        "rows": "status.history",
        "last": CHART_POINTS,
        "columns": [
            _TIME,
            {"label": "p50", "key": "p50_ms", "fmt": "ms"},
            {"label": "p95", "key": "p95_ms", "fmt": "ms"},
            {"label": "p99", "key": "p99_ms", "fmt": "ms"},
        ],
    },
    {
        "id": "table-throughput",
        "rows": "status.history",
        "last": CHART_POINTS,
        "columns": [
            _TIME,
            {"label": "requests", "key": "requests", "fmt": "int"},
            {"label": "errors", "key": "errors", "fmt": "int"},
        ],
    },
    {
        "id": "table-tokens",
        "rows": "tokens.by_model",
        "columns": [
            {"label": "model", "key": "model", "fmt": "text"},
            {"label": "requests", "key": "requests", "fmt": "int"},
            {"label": "prompt", "key": "prompt_tokens", "fmt": "int"},
            {"label": "completion", "key": "completion_tokens", "fmt": "int"},
            {"label": "total", "key": "total_tokens", "fmt": "int"},
            {"label": "cost", "key": "cost", "fmt": "money"},
        ],
        "extra": "ttft|first_token|per_s",
    },
    {
        "id": "table-recent",
        "rows": "status.recent",
        "columns": [
            _TIME,
            {"label": "operation", "key": "operation", "fmt": "text"},
            {"label": "model", "key": "model", "fmt": "text"},
            {"label": "status", "key": "status", "fmt": "text"},
            {"label": "ms", "key": "duration_ms", "fmt": "ms"},
            {"label": "tokens", "key": "prompt_tokens+completion_tokens", "fmt": "int"},
            {"label": "error", "key": "error", "fmt": "text"},
        ],
    },
]
FORMATS = {
    "text": lambda v: "-" if v is None else str(v),
    "int": lambda v: "-" if v is None else f"{int(v):,}",
    "ms": lambda v: "-" if v is None else f"{v:.1f} ms",
    "pct": lambda v: "-" if v is None else f"{v * 100:.2f}%",
    "money": lambda v: "-" if v is None else f"${v:.4f}",
    "rate": lambda v: "-" if v is None else f"{v:.2f}/min",
    "num": lambda v: "-" if v is None else f"{v:.1f}",
    "time": lambda v: "-" if v is None else time.strftime("%H:%M:%S", time.gmtime(v)),
}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@functools.lru_cache(maxsize=1)
def template():
    """The page template from package data (works from a checkout, an install and the zipapp)."""
    return pkgutil.get_data("devkit", "data/dashboard.html").decode("utf-8")


def page(app, request):
    """``GET /`` and ``/dashboard``: the page with the current snapshot rendered in."""
    view = {"status": app.reader.status(), "tokens": app.reader.tokens()}
    nonce = secrets.token_urlsafe(18)
    csp = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    body = render_page(view, nonce, app.cfg.project_name)
    return Response(200, body, "text/html; charset=utf-8", [("Content-Security-Policy", csp)])


def render_page(view, nonce, project):
    """The whole HTML page for ``view`` ({"status": ..., "tokens": ...})."""
    spec = {
        "kpis": [{"id": k, "key": key, "fmt": fmt} for k, _label, key, fmt in _KPIS],
        "tables": TABLES,
        "points": CHART_POINTS,
        "poll_ms": POLL_MS,
        "health_every": HEALTH_EVERY_POLLS,
    }
    parts = {
        "nonce": nonce,
        "title": html.escape(f"devkit · {project}"),
        "kpis": _kpis(view),
        "updated": FORMATS["time"](view["status"]["now"]),
        "models": _models(view["status"]["models"]),
        "initial": _script_json(dict(view, spec=spec)),
    }
    for table in TABLES:
        parts[table["id"].replace("-", "_")] = table_html(table, view)
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], template())


def value_at(data, path):
    """The value at a dotted ``path`` in ``data``; ``a+b`` sums two paths (missing parts count as absent)."""
    total = None
    for part in path.split("+"):
        value = data
        for key in part.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        total = value if total is None else (total if value is None else total + value)
    return total


def _kpis(view):
    return "".join(
        f'<div><dt>{html.escape(label)}</dt><dd id="kpi-{k}">{html.escape(FORMATS[fmt](value_at(view, key)))}'
        "</dd></div>"
        for k, label, key, fmt in _KPIS
    )


def _models(models):
    if not models:
        return '<li class="muted">no models configured</li>'
    return "".join(
        f'<li><span class="badge st-{html.escape(m["status"], True)}" title="{html.escape(m.get("output") or "", True)}">'
        f'<b>{html.escape(m["name"])}</b> {html.escape(m["status"])}</span></li>'
        for m in models
    )


def table_html(table, view):
    """One data table as HTML: the rows at ``table["rows"]`` (newest first when ``last``), escaped."""
    rows = value_at(view, table["rows"]) or []
    if table.get("last"):
        rows = rows[-table["last"] :][::-1]
    columns = table["columns"] + extra_columns(table, rows)
    cls = lambda c: ' class="num"' if c["fmt"] in _NUMERIC else ""  # noqa: E731
    head = "".join(f'<th scope="col"{cls(c)}>{html.escape(c["label"])}</th>' for c in columns)
    body = "".join(
        ('<tr class="err">' if r.get("status") == "error" else "<tr>")
        + "".join(
            f"<td{cls(c)}>{html.escape(FORMATS[c['fmt']](value_at(r, c['key'])))}</td>" for c in columns
        )
        + "</tr>"
        for r in rows
    )
    return f'<table id="{table["id"]}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def extra_columns(table, rows):
    """Columns for the keys matching ``table["extra"]`` that some row has (time to first token, tokens/s)."""
    if not table.get("extra"):
        return []
    keys = dict.fromkeys(
        k for r in rows for k, v in r.items() if re.search(table["extra"], k) and v is not None
    )
    return [{"label": k.replace("_", " "), "key": k, "fmt": "num"} for k in keys]


def _script_json(data):
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group(0)], text)

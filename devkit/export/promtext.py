"""Prometheus text exposition 0.0.4 and OpenMetrics 1.0 text, rendered from a snapshot.

Rendering is one pass per family: label strings are built once per series and
histogram lines come from a per-family template filled with one ``%`` operation.
"""

import math

from devkit.export.families import LE_BOUNDS, QUANTILES, all_families, cumulative_buckets

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
_LE_TEXT = tuple(repr(float(b)) for b in LE_BOUNDS) + ("+Inf",)
_Q_TEXT = tuple(repr(q) for q in QUANTILES)


def number(value):
    """A sample value as both formats spell it: Go-style floats, +Inf/-Inf/NaN."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    value = float(value)
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def escape_label_value(text):
    """Escape backslash, double quote and line feed, as both formats require in label values."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text, openmetrics=False):
    """Escape HELP text: backslash and line feed (plus double quote for OpenMetrics)."""
    text = str(text).replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if openmetrics else text


def label_text(labels):
    """``k="v",k2="v2"`` for a tuple of (name, value) pairs (no braces)."""
    return ",".join(f'{k}="{escape_label_value(v)}"' for k, v in labels)


def render_prometheus(snapshot):
    """Yield the Prometheus 0.0.4 exposition of ``snapshot``, one chunk per family."""
    for family in all_families(snapshot):
        yield _render_family(family, False)


def render_openmetrics(snapshot):
    """Yield the OpenMetrics 1.0 exposition of ``snapshot``, ending with ``# EOF``."""
    for family in all_families(snapshot):
        yield _render_family(family, True)
    yield "# EOF\n"


def _render_family(family, om):
    name = family.name
    type_name = name + "_total" if family.kind == "counter" and not om else name
    head = [f"# HELP {type_name} {escape_help(family.help, om)}\n", f"# TYPE {type_name} {family.kind}\n"]
    if om and family.unit:
        head.append(f"# UNIT {name} {family.unit}\n")
    body = _BODY[family.kind](family, om)
    return "".join(head) + body


def _counter_body(family, om):
    total, created = family.name + "_total", family.name + "_created"
    lines = []
    for labels, (value, created_ts) in family.series.items():
        brace = "{" + label_text(labels) + "}" if labels else ""
        lines.append(f"{total}{brace} {number(value)}\n")
        if om and created_ts is not None:
            lines.append(f"{created}{brace} {number(float(created_ts))}\n")
    return "".join(lines)


def _gauge_body(family, om):
    name = family.name
    lines = []
    for labels, (value, _created) in family.series.items():
        brace = "{" + label_text(labels) + "}" if labels else ""
        lines.append(f"{name}{brace} {number(value)}\n")
    return "".join(lines)


def _histogram_template(name, om):
    """Lines of one histogram series; \\x01 takes 'labels,' and \\x02 takes '{labels}'."""
    parts = [f'{name}_bucket{{\x01le="{le}"}} %d\n' for le in _LE_TEXT]
    parts.append(f"{name}_sum\x02 %s\n{name}_count\x02 %d\n")
    if om:
        parts.append(f"{name}_created\x02 %s\n")
    return "".join(parts)


def _histogram_body(family, om):
    template = _histogram_template(family.name, om)
    lines = []
    for labels, (sketch, created_ts) in family.series.items():
        text = label_text(labels).replace("%", "%%")
        filled = template.replace("\x01", text + "," if text else "").replace(
            "\x02", "{" + text + "}" if text else ""
        )
        values = cumulative_buckets(sketch)
        values.append(number(sketch.sum))
        values.append(sketch.count)
        if om:
            if created_ts is None:
                filled = filled[: filled.rindex("\n", 0, -1) + 1]
            else:
                values.append(number(float(created_ts)))
        lines.append(filled % tuple(values))
    return "".join(lines)


def _summary_body(family, om):
    name = family.name
    lines = []
    for labels, (sketch, created_ts) in family.series.items():
        text = label_text(labels)
        inner = text + "," if text else ""
        brace = "{" + text + "}" if text else ""
        for q, q_text in zip(QUANTILES, _Q_TEXT):
            value = sketch.quantile(q)
            lines.append(
                f'{name}{{{inner}quantile="{q_text}"}} {number(math.nan if value is None else value)}\n'
            )
        lines.append(f"{name}_sum{brace} {number(sketch.sum)}\n{name}_count{brace} {sketch.count}\n")
        if om and created_ts is not None:
            lines.append(f"{name}_created{brace} {number(float(created_ts))}\n")
    return "".join(lines)


_BODY = {
    "counter": _counter_body,
    "gauge": _gauge_body,
    "histogram": _histogram_body,
    "summary": _summary_body,
}


def negotiate(accept_header):
    """Pick ``(format, content_type)`` for an Accept header: OpenMetrics when preferred, else 0.0.4."""
    best_om, best_text = -1.0, 0.0
    for item in (accept_header or "").split(","):
        fields = [f.strip() for f in item.split(";")]
        media = fields[0].lower()
        params = dict(_param(f) for f in fields[1:] if "=" in f)
        quality = _quality(params.get("q"))
        if media == "application/openmetrics-text" and params.get("version", "1.0.0") in ("1.0.0", "0.0.1"):
            best_om = max(best_om, quality)
        elif media in ("text/plain", "*/*", "text/*"):
            best_text = max(best_text, quality)
    if best_om > 0 and best_om >= best_text:
        return "openmetrics", OPENMETRICS_CONTENT_TYPE
    return "prom", PROMETHEUS_CONTENT_TYPE


def _param(field):
    key, _, value = field.partition("=")
    return key.strip().lower(), value.strip().strip('"')


def _quality(text):
    try:
        return min(1.0, max(0.0, float(text))) if text is not None else 1.0
    except ValueError:
        return 0.0

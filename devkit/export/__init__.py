"""Exports of the metrics store: JSON, CSV, Markdown, Prometheus 0.0.4, OpenMetrics 1.0 and OTLP/JSON.

Every format renders from one ``devkit.snapshot.Snapshot`` (``devkit.snapshot.take``), as an iterator of text
chunks so big outputs stream; ``render`` picks the renderer by format name.
"""

from devkit.config.schema import EXPORT_FORMATS as FORMATS
from devkit.errors import UsageError

EXTENSIONS = {
    "json": ".json",
    "csv": ".csv",
    "md": ".md",
    "prom": ".prom",
    "openmetrics": ".om.txt",
    "otlp": ".otlp.json",
}
CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8; header=present",
    "md": "text/markdown; charset=utf-8",
    "prom": "text/plain; version=0.0.4; charset=utf-8",
    "openmetrics": "application/openmetrics-text; version=1.0.0; charset=utf-8",
    "otlp": "application/json",
}
__all__ = ["FORMATS", "CONTENT_TYPES", "EXTENSIONS", "render", "check_format"]


def check_format(fmt):
    """Return ``fmt`` when it is a known export format, else raise UsageError naming the choices."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    return fmt


def render(snapshot, fmt, operations=False, ascii=False, cfg=None):
    """Iterate the text chunks of ``snapshot`` in ``fmt``; ``operations`` selects the operations CSV.

    ``cfg`` (optional) names each model's provider in the OTLP export.
    """
    check_format(fmt)
    if fmt == "otlp":
        from devkit.export.otlp import render_otlp

        return render_otlp(snapshot, cfg)
    if fmt == "json":
        from devkit.export.jsonout import render_json

        return render_json(snapshot)
    if fmt == "csv":
        from devkit.export.csvout import render_operations_csv, render_series_csv

        return render_operations_csv(snapshot) if operations else render_series_csv(snapshot)
    if fmt == "md":
        from devkit.export.markdown import render_markdown

        return render_markdown(snapshot, ascii=ascii)
    from devkit.export.promtext import render_openmetrics, render_prometheus

    return render_openmetrics(snapshot) if fmt == "openmetrics" else render_prometheus(snapshot)

"""The JSON export: one document with metadata, totals, percentiles, series, windows, history and recent ops."""

import json
import math

from devkit.export.common import history_runs, instrument_rows, iso, latency_ms, series_rows

FORMAT_ID = "devkit-export/1"


def export_dict(snapshot):
    """The JSON-ready dict of the whole export."""
    return {
        "metadata": {
            "format": FORMAT_ID,
            "devkit_version": snapshot.version,
            "project": snapshot.project,
            "generated_at": snapshot.generated_at,
            "generated_at_iso": iso(snapshot.generated_at),
            "since": snapshot.since_ts,
            "since_iso": iso(snapshot.since_ts),
            "consistent_snapshot": snapshot.consistent,
            "history_resolution_s": snapshot.history_resolution_s,
        },
        "totals": snapshot.totals,
        "percentiles": latency_ms(snapshot.latency),
        "series": series_rows(snapshot),
        "windows": snapshot.windows,
        "history": history_runs(snapshot),
        "recent": snapshot.recent,
        "instruments": instrument_rows(snapshot),
    }


def render_json(snapshot):
    """Yield the JSON document (one chunk); non-finite numbers become null so the output stays valid JSON."""
    yield json.dumps(_finite(export_dict(snapshot)), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value

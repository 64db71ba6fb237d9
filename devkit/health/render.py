"""Reports as data and text: the IETF health+json dict, the Nagios line, table rows and exit codes.

Exit codes by profile: ``nagios`` 0 pass, 1 warn, 2 fail, 3 could not run;
``docker`` 0 healthy (pass or warn), 1 unhealthy (fail or could not run).
"""

import re

import devkit
from devkit.health.core import perf_number
from devkit.term import printable
from devkit.util import utc_iso

NAGIOS_CODES = {"pass": 0, "warn": 1, "fail": 2, "unknown": 3}
NAGIOS_WORDS = {"pass": "OK", "warn": "WARNING", "fail": "CRITICAL", "unknown": "UNKNOWN"}
_PERF_UNITS = {"ms": ("s", 0.001), "s": ("s", 1.0), "MB": ("MB", 1.0), "%": ("%", 1.0)}
_LABEL_JUNK = re.compile(r"[^A-Za-z0-9_.-]+")


def exit_code(status, profile="nagios"):
    """The exit code for an overall ``status`` (pass/warn/fail/unknown) under ``profile``."""
    if profile == "docker":
        return 0 if status in ("pass", "warn") else 1
    return NAGIOS_CODES[status]


def iso_time(ts):
    """An RFC 3339 UTC timestamp with milliseconds."""
    return utc_iso(ts, 3)


def health_json(report, description="devkit health"):
    """The IETF health-check draft document: status, version, checks keyed ``component:measurement``."""
    checks = {}
    for result in report.results:
        key = f"{result.name}:{result.measurement}" if result.measurement else result.name
        checks.setdefault(key, []).append(_check_entry(result))
    return {
        "status": report.status,
        "version": devkit.__version__,
        "description": description,
        "output": verdict(report),
        "time": iso_time(report.started_ts),
        "durationMs": round(report.duration_s * 1000.0, 1),
        "checks": checks,
    }


def _check_entry(result):
    return {
        "componentId": result.component_id,
        "componentType": result.component_type,
        "observedValue": result.observed_value,
        "observedUnit": result.observed_unit,
        "status": result.status,
        "critical": result.critical,
        "durationMs": round(result.duration_s * 1000.0, 1),
        "time": iso_time(result.time),
        "output": result.output,
    }


def verdict(report):
    """One line: the overall status and the counts, naming the first problem."""
    counts, total = report.counts(), len(report.results)
    if report.status == "pass":
        return f"{total} check passed" if total == 1 else f"{total} checks passed"
    worst = [r for r in report.results if r.status == "fail"] or [
        r for r in report.results if r.status == "warn"
    ]
    parts = [f"{counts[s]} {w}" for s, w in (("fail", "failed"), ("warn", "warned")) if counts[s]]
    return f"{', '.join(parts)} of {total}: {worst[0].name}: {worst[0].output}"


def nagios_line(report):
    """``DEVKIT HEALTH OK - 5 checks passed | 'label'=value[UOM];warn;crit;min;max ...``."""
    text = printable(f"DEVKIT HEALTH {NAGIOS_WORDS[report.status]} - {verdict(report)}").replace("|", "/")
    perfdata = [p for p in (_perf(r) for r in report.results) if p]
    return text + (" | " + " ".join(perfdata) if perfdata else "")


def unknown_line(message):
    """The Nagios line for a run that could not happen."""
    return printable(f"DEVKIT HEALTH UNKNOWN - {message}").replace("|", "/")


def _perf(result):
    if not isinstance(result.observed_value, (int, float)) or isinstance(result.observed_value, bool):
        return None
    uom, factor = _PERF_UNITS.get(result.observed_unit, ("", 1.0))
    label = _LABEL_JUNK.sub("_", f"{result.name}_{result.measurement or 'value'}").replace(".", "_")
    warn, crit, low, high = result.perf or (None, None, None, None)
    value = perf_number(result.observed_value * factor)
    fields = [f"'{label}'={value}{uom}", warn or "", crit or "", low or "", high or ""]
    return ";".join(fields)


def table_rows(report):
    """Rows of (check, status, latency, output) for the terminal table."""
    return [(r.name, r.status, f"{r.duration_s * 1000.0:.0f} ms", r.output) for r in report.results]

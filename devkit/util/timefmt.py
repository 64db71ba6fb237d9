"""Durations and timestamps: parsing ``--since``/``--every`` spans and formatting UTC times."""

import datetime
import re

from devkit.errors import UsageError

_UNITS_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d{1,30}(?:\.\d{1,30})?)\s*(ms|s|m|h|d|w)?\s*$")
MAX_DURATION_S = 10 * 365 * 86400
"""The longest duration any argument may give: 10 years (a bound, so no span can overflow a date)."""
_MAX_SHOWN = 40


def parse_duration(text, what="duration"):
    """Parse ``90s``, ``5m``, ``1h``, ``7d`` or a bare number of seconds (at most 10 years); raise UsageError."""
    text = str(text)
    shown = repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")
    match = _DURATION.match(text) if len(text) <= 80 else None
    if not match:
        raise UsageError(f"{what}: expected a duration like 30s, 5m, 1h or 7d, got {shown}")
    seconds = float(match.group(1)) * _UNITS_S[match.group(2) or "s"]
    if seconds > MAX_DURATION_S:
        raise UsageError(f"{what}: at most 10 years (3650d), got {shown}")
    return seconds


def parse_since(text, now):
    """Turn ``--since`` (``1h``, ``24h``, ``7d``, ``all``) into a start timestamp or None."""
    if text is None or str(text).strip().lower() == "all":
        return None
    return now - parse_duration(text, "--since")


def utc_iso(ts, digits=0):
    """A Unix timestamp as ISO 8601 UTC with ``digits`` (0, 3 or 6) of fractional seconds."""
    stamp = datetime.datetime.fromtimestamp(float(ts), tz=datetime.timezone.utc)
    fraction = f".{stamp.microsecond:06d}"[: digits + 1] if digits else ""
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"

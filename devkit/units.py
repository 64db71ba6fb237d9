"""Numbers as every screen and report spells them: counts, milliseconds, dollars, percentages, sizes, times.

One place, so ``status``, ``metrics``, ``metrics tokens`` and the Markdown report never disagree.
"""

import time

MISSING = "-"
_SIZE_UNITS = ("KB", "MB", "GB", "TB")


def count(value):
    """A whole number with thousands separators (``12,345``); ``-`` for None."""
    return MISSING if value is None else f"{int(value):,}"


def ms(value):
    """Milliseconds with one decimal and thousands separators (``1,234.5``); ``-`` for None."""
    return MISSING if value is None else f"{value:,.1f}"


def usd(value):
    """An estimated cost in dollars with four decimals (``$1,234.5678``); ``-`` for None."""
    return MISSING if value is None else f"${value:,.4f}"


def percent(ratio):
    """A ratio as a percentage with one decimal (``33.3%``); ``<0.1%`` when tiny but not zero."""
    if ratio is None:
        return MISSING
    if 0 < ratio < 0.0005:
        return "<0.1%"
    return f"{ratio * 100:.1f}%"


def rate(per_min):
    """A rate with one decimal and thousands separators (``1,234.5``); ``-`` for None."""
    return MISSING if per_min is None else f"{per_min:,.1f}"


def human_size(size_bytes):
    """A size in bytes as people read it: ``812 B``, ``40.0 KB``, ``1.5 MB`` (powers of 1024)."""
    size = float(size_bytes or 0)
    if size < 1024:
        return f"{size:.0f} B"
    for unit in _SIZE_UNITS:
        size /= 1024.0
        if size < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{size:,.1f} {unit}"


def utc_stamp(ts):
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def utc_clock(ts, now):
    """``HH:MM:SS`` for a time on ``now``'s UTC date, else the full ``utc_stamp`` (always UTC)."""
    if time.gmtime(ts)[:3] == time.gmtime(now)[:3]:
        return time.strftime("%H:%M:%S", time.gmtime(ts))
    return utc_stamp(ts)


def ago(ts, now):
    """How long before ``now`` ``ts`` was, in the largest whole unit (``45 s``, ``3 min``, ``2 h``, ``5 d``)."""
    seconds = max(0, int(now - ts))
    for unit, span in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= span:
            return f"{seconds // span} {unit}"
    return f"{seconds} s"

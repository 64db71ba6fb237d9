"""Tiny text charts: sparklines and horizontal bars in Unicode blocks, with an ASCII fallback."""

from devkit import term

SPARK_UNICODE = "▁▂▃▄▅▆▇█"
SPARK_ASCII = "_.-:=+*#"
_EIGHTHS = " ▏▎▍▌▋▊▉"
_PROBE = "▁█"


def wants_ascii(stream):
    """True when ``stream`` cannot encode block characters, so charts must use ASCII."""
    return not term.can_encode(stream, _PROBE)


def resample(values, width):
    """At most ``width`` values: consecutive groups reduced to their max (None when a group is empty)."""
    values = list(values)
    if width <= 0 or len(values) <= width:
        return values
    out = []
    for i in range(width):
        group = [
            v for v in values[i * len(values) // width : (i + 1) * len(values) // width] if v is not None
        ]
        out.append(max(group) if group else None)
    return out


def sparkline(values, ascii=False, width=0):
    """One character per value scaled between the series' min and max; None shows as a space.

    With ``width`` > 0 a longer series is first resampled to ``width`` points (group maxima).
    """
    levels = SPARK_ASCII if ascii else SPARK_UNICODE
    values = resample(values, width)
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    low, high = min(present), max(present)
    span = high - low
    top = len(levels) - 1
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
        elif span == 0:
            # A flat series sits on the floor when it is all zeros, mid-height otherwise.
            chars.append(levels[0] if high == 0 else levels[top // 2])
        else:
            chars.append(levels[int(round((value - low) / span * top))])
    return "".join(chars)


def bar(value, maximum, width, ascii=False):
    """A bar ``width`` characters wide, filled in proportion to ``value / maximum`` (clamped)."""
    width = max(0, int(width))
    if not maximum or maximum <= 0 or not value or value <= 0:
        return " " * width
    fraction = min(1.0, float(value) / float(maximum))
    if ascii:
        filled = int(round(fraction * width))
        return ("#" * filled).ljust(width)
    eighths = int(round(fraction * width * 8))
    full, rest = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[rest] if rest else "")
    return text.ljust(width)

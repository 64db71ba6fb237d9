"""Terminal output: the colour decision, styling, aligned tables and a progress bar."""

import os
import re
import shutil

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "cyan": "36",
}
UNLIMITED_WIDTH = 10**6
DEFAULT_WIDTH = 80
STATUS_COLORS = {"pass": "green", "ok": "green", "warn": "yellow", "fail": "red", "error": "red"}
# C0, DEL, C1, and the Unicode line/paragraph separators and bidi overrides that reorder a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def printable(text):
    """``text`` safe for a terminal: control characters (ESC, CR, LF, BEL, C1, DEL...) shown escaped."""
    return _CONTROL.sub(_escape, str(text))


def _escape(match):
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def isatty(stream):
    """Whether ``stream`` is a terminal; False for closed or fake streams."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def wants_color(env, isatty):
    """Decide colour for one stream: NO_COLOR, then FORCE_COLOR, then TERM=dumb, then isatty."""
    if env.get("NO_COLOR", ""):
        return False
    force = env.get("FORCE_COLOR")
    if force is not None and force not in ("0", "false"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return bool(isatty)


def style(text, color, enabled):
    """Wrap ``text`` in ANSI codes for ``color`` (a name in _CODES) when enabled."""
    if not enabled or not color:
        return str(text)
    codes = ";".join(_CODES[c] for c in color.split("+"))
    return f"\x1b[{codes}m{text}\x1b[0m"


def terminal_width(env, stream=None):
    """Columns available: $COLUMNS, else the TTY's size, else 80 (also when a TTY reports 0 columns)."""
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if stream is not None:
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            size = 0
        # Under `script`, some CI runners and serial consoles the TTY is 0x0: fall back, never cut to 0.
        if size > 0:
            return size
    return DEFAULT_WIDTH


def can_encode(stream, text):
    """True when ``stream`` can encode ``text`` (for Unicode-or-ASCII fallbacks)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def table(headers, rows, width=80, align=None, colors=None, color=False):
    """Render rows as aligned columns that fit ``width``; the widest column is cut with '…'.

    ``align`` is a string of 'l'/'r' per column; ``colors`` maps a column index
    to a function of the cell value that returns a colour name or None.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    widths = _fit_widths(headers, cells, width)
    align = align or "l" * len(headers)
    lines = [_row(headers, widths, align, None, color and "bold")]
    for raw, row in zip(rows, cells):
        lines.append(_row(row, widths, align, (colors or {}, raw), color))
    return "\n".join(lines)


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 1e6 else f"{value:.3g}"
    return printable(value)


def _fit_widths(headers, cells, width):
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    gap = 2 * (len(widths) - 1)
    while sum(widths) + gap > width:
        widest = max(range(len(widths)), key=widths.__getitem__)
        if widths[widest] <= 6:
            break
        widths[widest] -= 1
    return widths


def _row(values, widths, align, coloring, color):
    parts = []
    for i, (value, w) in enumerate(zip(values, widths)):
        text = value if len(value) <= w else value[: w - 1] + "…"
        text = text.rjust(w) if align[i] == "r" else text.ljust(w)
        if coloring is None:
            text = style(text, color or None, bool(color))
        elif i in coloring[0]:
            text = style(text, coloring[0][i](coloring[1][i]), color)
        parts.append(text)
    return "  ".join(parts).rstrip()


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a TTY."""

    def __init__(self, ctx, total, label=""):
        self.ctx = ctx
        self.total = total
        self.label = label
        self.done = 0
        self.enabled = ctx.stderr_isatty and not ctx.quiet

    def advance(self, n=1):
        """Count ``n`` more units done and redraw."""
        self.done += n
        if self.enabled:
            self._draw()

    def _draw(self):
        frac = min(1.0, self.done / self.total) if self.total else 0.0
        bar_width = 30
        filled = int(frac * bar_width)
        bar = "#" * filled + "-" * (bar_width - filled)
        self.ctx.stderr.write(f"\r{self.label} [{bar}] {frac * 100:5.1f}% ")
        self.ctx.stderr.flush()

    def close(self):
        """Finish the line so later output starts clean."""
        if self.enabled:
            self.ctx.stderr.write("\n")
            self.ctx.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

"""Small text helpers the maintenance commands share: escaped paths, sizes, ages."""

_CONTROL_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def printable(text):
    """``text`` with control characters escaped, safe to show on a terminal."""
    return "".join(
        ch if ch.isprintable() else _CONTROL_ESCAPES.get(ch, f"\\x{ord(ch):02x}") for ch in str(text)
    )


def size_text(size):
    """Bytes as ``512 B``, ``1.5 KB``, ``2.0 MB`` or ``3.1 GB``."""
    size = float(size)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024.0
    return f"{size:.1f} GB"


def age_text(seconds):
    """An age as ``45s``, ``12m``, ``5.0h`` or ``31.2d``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"

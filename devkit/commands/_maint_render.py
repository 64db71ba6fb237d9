"""Small text helpers the maintenance commands share: escaped paths, sizes, ages."""

from devkit import term, units


def printable(text):
    """``text`` with control characters escaped, safe to show on a terminal (``devkit.term.printable``)."""
    return term.printable(text)


def size_text(size):
    """Bytes as people read them (``devkit.units.human_size``)."""
    return units.human_size(size)


def age_text(seconds):
    """An age as ``45s``, ``12m``, ``5.0h`` or ``31.2d``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"

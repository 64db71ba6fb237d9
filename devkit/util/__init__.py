"""Small shared helpers: atomic writes (``fs``), durations and UTC times (``timefmt``),
the storage lock (``lock``) and timestamped names with keep-newest pruning (``names``)."""

from devkit.util.fs import atomic_write
from devkit.util.timefmt import parse_duration, parse_since, utc_iso

__all__ = ["atomic_write", "parse_duration", "parse_since", "utc_iso"]

"""Names of scheduled export files; the naming and keep-newest pieces live in ``devkit.util.names``."""

from devkit.util.names import keep_newest
from devkit.util.names import timestamped_name as _timestamped_name

PREFIX = "devkit-export-"
OPERATIONS_PREFIX = "devkit-operations-"


def timestamped_name(now, extension, prefix=PREFIX):
    """``devkit-export-20240501T120000.250Z.json``: names sort in time order."""
    return _timestamped_name(now, extension, prefix)


def prune_exports(directory, extension, keep, prefix=PREFIX):
    """Delete all but the newest ``keep`` scheduled exports named ``prefix...extension``; return their paths."""
    return keep_newest(directory, prefix, extension, keep)

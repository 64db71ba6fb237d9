"""Writing exports: streamed atomic files and timestamped files of a scheduled export, keeping the last N."""

import datetime
import os

from devkit.errors import OperationError

PREFIX = "devkit-export-"
OPERATIONS_PREFIX = "devkit-operations-"


def timestamped_name(now, extension, prefix=PREFIX):
    """``devkit-export-20240501T120000.250Z.json``: names sort in time order."""
    stamp = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    return f"{prefix}{stamp.strftime('%Y%m%dT%H%M%S')}.{stamp.microsecond // 1000:03d}Z{extension}"


def prune_exports(directory, extension, keep, prefix=PREFIX):
    """Delete all but the newest ``keep`` scheduled exports named ``prefix...extension``; return their paths."""
    names = sorted(n for n in os.listdir(directory) if n.startswith(prefix) and n.endswith(extension))
    removed = []
    for name in names[: max(0, len(names) - int(keep))]:
        path = os.path.join(directory, name)
        try:
            os.unlink(path)
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OperationError(f"cannot remove old export {path}: {exc.strerror or exc}") from None
    return removed

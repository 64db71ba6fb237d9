"""Timestamped file names that sort in time order, and keep-newest pruning of such files."""

import datetime
import os

from devkit.errors import OperationError


def timestamped_name(now, extension, prefix):
    """``<prefix>20240501T120000.250Z<extension>``: names of one prefix sort in time order."""
    stamp = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    return f"{prefix}{stamp.strftime('%Y%m%dT%H%M%S')}.{stamp.microsecond // 1000:03d}Z{extension}"


def keep_newest(directory, prefix, extension, keep):
    """Delete all but the newest ``keep`` files named ``prefix...extension``; return the removed paths."""
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
            raise OperationError(f"cannot remove old file {path}: {exc.strerror or exc}") from None
    return removed

"""Writing exports: streamed atomic files and timestamped files of a scheduled export, keeping the last N."""

import datetime
import os
import tempfile

from devkit.errors import OperationError

PREFIX = "devkit-export-"
OPERATIONS_PREFIX = "devkit-operations-"


def write_chunks_atomic(path, chunks):
    """Write text ``chunks`` to ``path`` via a temp file in the same folder, fsync and rename; return bytes."""
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-export-", dir=directory)
    except OSError as exc:
        raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                handle.write(data)
                written += len(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(directory)
    return written


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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

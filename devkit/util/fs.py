"""File-system helpers: atomic writes of regular files."""

import os
import tempfile

from devkit.errors import OperationError


def atomic_write(path, data, mode=0o644):
    """Write ``data`` to ``path`` via temp file, fsync and rename; return the bytes written.

    ``data`` is str, bytes, or an iterable of str/bytes chunks (streamed, flat memory).
    Readers see the old file or the whole new one, never a part; OSError becomes OperationError.
    """
    path = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    except OSError as exc:
        raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        written = _write_all(fd, [data] if isinstance(data, (str, bytes)) else data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        _remove_quietly(tmp)
        if isinstance(exc, OSError):
            raise OperationError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    _fsync_dir(directory)
    return written


def _write_all(fd, chunks):
    written = 0
    with os.fdopen(fd, "wb") as handle:
        for chunk in chunks:
            data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
            handle.write(data)
            written += len(data)
        handle.flush()
        os.fsync(handle.fileno())
    return written


def _remove_quietly(path):
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

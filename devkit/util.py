"""Small shared helpers: atomic writes and duration parsing."""

import datetime
import os
import re
import tempfile

from devkit.errors import OperationError, UsageError

_UNITS_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")


def parse_duration(text, what="duration"):
    """Parse ``90s``, ``5m``, ``1h``, ``7d`` or a bare number of seconds; raise UsageError."""
    match = _DURATION.match(str(text))
    if not match:
        raise UsageError(f"{what}: expected a duration like 30s, 5m, 1h or 7d, got {text!r}")
    return float(match.group(1)) * _UNITS_S[match.group(2) or "s"]


def parse_since(text, now):
    """Turn ``--since`` (``1h``, ``24h``, ``7d``, ``all``) into a start timestamp or None."""
    if text is None or str(text).strip().lower() == "all":
        return None
    return now - parse_duration(text, "--since")


def utc_iso(ts, digits=0):
    """A Unix timestamp as ISO 8601 UTC with ``digits`` (0, 3 or 6) of fractional seconds."""
    stamp = datetime.datetime.fromtimestamp(float(ts), tz=datetime.timezone.utc)
    fraction = f".{stamp.microsecond:06d}"[: digits + 1] if digits else ""
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


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

"""Small shared helpers: atomic writes and duration parsing."""

import os
import re
import tempfile

from devkit.errors import UsageError

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


def atomic_write(path, data, mode=0o644):
    """Write ``data`` (str or bytes) to ``path`` via temp file, fsync and rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(directory)


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

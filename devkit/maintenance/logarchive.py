"""Archive one log as gzip so a crash never loses it: compress to a temp name, fsync, rename, then unlink."""

import os
import zlib

from devkit.errors import OperationError
from devkit.util.fs import atomic_write
from devkit.util.names import timestamped_name

_CHUNK = 1024 * 1024
_GZIP_WBITS = 31  # zlib's gzip container: the .gz file gunzip and tar read


def archive_name(archive_dir, relative, now):
    """Where ``relative`` (a log's path under its root) is archived; never an existing file."""
    target = os.path.join(archive_dir, relative + ".gz")
    if not os.path.lexists(target):
        return target
    return os.path.join(archive_dir, timestamped_name(now, ".gz", prefix=relative + "."))


def archive_log(path, target):
    """Gzip the regular file ``path`` into ``target`` (atomically), then remove ``path``; return bytes written.

    The original stays when it changed while being compressed; a symlink is refused, never followed.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise OperationError(f"cannot read log {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as source:
        before = os.fstat(source.fileno())
        written = atomic_write(target, _gzip_chunks(source))
        after = os.fstat(source.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        os.unlink(target)
        raise OperationError(f"log {path} changed while it was archived; left in place")
    try:
        os.unlink(path)
    except OSError as exc:
        raise OperationError(
            f"archived {path} to {target} but cannot remove it: {exc.strerror or exc}"
        ) from None
    return written


def _gzip_chunks(source):
    packer = zlib.compressobj(6, zlib.DEFLATED, _GZIP_WBITS)
    while True:
        block = source.read(_CHUNK)
        if not block:
            break
        packed = packer.compress(block)
        if packed:
            yield packed
    yield packer.flush()

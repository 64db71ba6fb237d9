"""One advisory lock per storage root, so backup, restore, prune and cleanup never overlap.

The lock is ``fcntl.flock`` on ``<state_dir>/maintenance.lock``: the kernel drops it
when the holder exits, even after ``kill -9``, so a stale lock never blocks anyone.
The file keeps the holder's pid and purpose only to name it in the busy message.
"""

import contextlib
import os

from devkit.errors import LockBusyError, OperationError

LOCK_NAME = "maintenance.lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: fall back to an exclusive-create marker
    fcntl = None


@contextlib.contextmanager
def storage_lock(state_dir, purpose):
    """Hold the storage lock of ``state_dir`` for the block; raise LockBusyError when another run has it."""
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.join(state_dir, LOCK_NAME)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OperationError(f"cannot open lock file {path}: {exc.strerror or exc}") from None
    try:
        _acquire(fd, path)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {purpose}\n".encode("utf-8", "replace"))
        yield path
    finally:
        os.close(fd)


def _acquire(fd, path):
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LockBusyError(
            f"{path}: busy: {_holder(path)} holds the storage lock; try again later"
        ) from None


def _holder(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            words = handle.read(200).split(None, 1)
    except OSError:
        words = []
    if len(words) == 2:
        return f"devkit {words[1].strip()} (pid {words[0]})"
    return "another devkit run"

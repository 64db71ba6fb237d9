"""Flush on SIGTERM and SIGHUP without taking the signal from the app.

The app's own handler (installed before or after) still runs; with none, the process ends
exactly as it would have (killed by the same signal, so the same exit status).
"""

import contextlib
import os
import signal
import threading

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
# While the main thread holds a recorder lock, a signal arriving there waits until it is released:
# flushing from inside the handler would need that very lock.
_DEPTH = [0]
_PENDING = []


@contextlib.contextmanager
def deferred():
    """On the main thread, a termination signal arriving inside the block is handled when it ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _DEPTH[0] += 1
    try:
        yield
    finally:
        _DEPTH[0] -= 1
        if not _DEPTH[0] and _PENDING:
            os.kill(os.getpid(), _PENDING.pop())


@contextlib.contextmanager
def holding(lock):
    """Hold ``lock`` with termination signals deferred (see ``deferred``)."""
    with deferred(), lock:
        yield


def flush_on_termination(flush):
    """Chain ``flush()`` in front of the current SIGTERM/SIGHUP handlers (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        previous = signal.getsignal(signum)
        if previous is signal.SIG_IGN or previous is None or getattr(previous, "_devkit_flush", False):
            continue
        signal.signal(signum, _chained(flush, previous))


def keep_off_this_thread():
    """Block SIGTERM/SIGHUP in the calling (background) thread, so the kernel delivers them to the main
    thread: a main thread blocked in a C-level wait (a Pool worker's queue) only wakes for its own."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _chained(flush, previous):
    def handler(signum, frame):
        if _DEPTH[0]:
            _PENDING.append(signum)
            return
        try:
            flush()
        finally:
            if callable(previous):
                previous(signum, frame)
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

    handler._devkit_flush = True
    return handler


def _after_fork_in_child():
    _DEPTH[0] = 0
    del _PENDING[:]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

"""Flush on SIGTERM and SIGHUP without taking the signal from the app.

The app's own handler (installed before or after) still runs; with none, the process ends
exactly as it would have (killed by the same signal, so the same exit status).
"""

import contextlib
import os
import signal
import threading
import time

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
# While the main thread holds a recorder lock, a signal arriving there waits until it is released:
# flushing from inside the handler would need that very lock.
_DEPTH = [0]
_PENDING = []
# CPython runs a Python handler only at the main thread's next bytecode: a signal landing just before
# the main thread blocks in C (a Pool worker entering its queue's lock at terminate()) is never handled.
# A watcher thread reads the signal wakeup fd and, if our handler has not run soon, wakes the main
# thread with a signal of its own whose handler does nothing: the interrupted wait then runs the
# pending handler. Never the app's signal again, so no handler ever runs twice for one signal.
WAKE_AFTER_S = 0.25
_WAKE_SIGNAL = getattr(signal, "SIGRTMAX", 0) - 2
_HANDLED = {}
_WATCH = {"fds": None}


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
    _start_watcher()


def keep_off_this_thread():
    """Block SIGTERM/SIGHUP in the calling (background) thread, so the kernel delivers them to the main
    thread: a main thread blocked in a C-level wait (a Pool worker's queue) only wakes for its own."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _chained(flush, previous):
    def handler(signum, frame):
        _HANDLED[signum] = _HANDLED.get(signum, 0) + 1
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


def _start_watcher():
    if _WATCH["fds"] is not None or not hasattr(signal, "pthread_kill") or _WAKE_SIGNAL <= 0:
        return
    if signal.getsignal(_WAKE_SIGNAL) not in (signal.SIG_DFL, _wake):
        return  # the app uses that signal
    signal.signal(_WAKE_SIGNAL, _wake)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    if previous != -1:  # the app watches signals itself (an event loop): leave its fd in place
        signal.set_wakeup_fd(previous)
        os.close(read_fd)
        os.close(write_fd)
        return
    _WATCH["fds"] = (read_fd, write_fd)
    main_id = threading.main_thread().ident
    threading.Thread(target=_watch, args=(read_fd, main_id), name="devkit-signal-watch", daemon=True).start()


def _watch(read_fd, main_id):
    keep_off_this_thread()
    seen = {}
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum in _SIGNALS:
                seen[signum] = seen.get(signum, 0) + 1
                _wake_unless_handled(signum, seen[signum], main_id)


def _wake_unless_handled(signum, expected, main_id):
    deadline = time.monotonic() + WAKE_AFTER_S
    while _HANDLED.get(signum, 0) < expected:
        if time.monotonic() >= deadline:
            signal.pthread_kill(main_id, _WAKE_SIGNAL)
            return
        time.sleep(0.01)


def _wake(signum, frame):
    """Does nothing: arriving, it makes a blocked main thread run the handlers still pending."""


def _after_fork_in_child():
    _DEPTH[0] = 0
    del _PENDING[:]
    _HANDLED.clear()
    fds, _WATCH["fds"] = _WATCH["fds"], None
    if fds is not None:
        # The pipe is shared with the parent, whose watcher would otherwise re-signal the parent.
        with contextlib.suppress(ValueError):  # only the main thread may change it; a fork keeps one
            current = signal.set_wakeup_fd(-1)
            if current != fds[1]:
                signal.set_wakeup_fd(current)
        os.close(fds[0])
        os.close(fds[1])


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

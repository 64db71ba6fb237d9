"""Flush on SIGTERM and SIGHUP without taking the signal from the app.

The app's own handler (installed before or after) still runs; with none, the process ends
exactly as it would have (killed by the same signal, so the same exit status).
"""

import os
import signal
import threading

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def flush_on_termination(flush):
    """Chain ``flush()`` in front of the current SIGTERM/SIGHUP handlers (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _SIGNALS:
        previous = signal.getsignal(signum)
        if previous is signal.SIG_IGN or previous is None or getattr(previous, "_devkit_flush", False):
            continue
        signal.signal(signum, _chained(flush, previous))


def _chained(flush, previous):
    def handler(signum, frame):
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

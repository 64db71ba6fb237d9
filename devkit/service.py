"""Long-running loops: do something every interval until Ctrl-C or SIGTERM, then stop cleanly.

The scheduled export, ``devkit serve`` and ``metrics push`` share this one place.
"""

import collections
import contextlib
import signal
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_on_signals(stop=None, signals=STOP_SIGNALS):
    """Within the block, the given signals set ``stop`` (a threading.Event) instead of interrupting.

    A flag rather than KeyboardInterrupt: raised inside a sqlite3 callback mid-round, it would
    come out as a database error. A signal the parent set to be ignored (a background job)
    stays ignored; outside the main thread nothing is installed. Yields the Event.
    """
    stop = stop if stop is not None else threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in signals:
            if signal.getsignal(number) not in (signal.SIG_IGN, None):
                previous[number] = signal.signal(number, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def every(interval_s, func, clock, stop, count=None, keep=1):
    """Call ``func()`` now and then every ``interval_s`` seconds of ``clock`` until ``stop`` is set.

    Stops after ``count`` rounds when given; a round in progress always finishes. Returns
    ``(rounds, recent)``: how many rounds ran and the last ``keep`` results (memory stays flat
    however long it runs).
    """
    recent = collections.deque(maxlen=max(int(keep), 0))
    rounds = 0
    next_at = clock()
    while (count is None or rounds < count) and not _wait_until(clock, next_at, stop):
        next_at += interval_s
        recent.append(func())
        rounds += 1
    return rounds, list(recent)


def _wait_until(clock, deadline, stop):
    """Sleep until ``deadline`` unless asked to stop; True when asked to stop."""
    delay = deadline - clock()
    return stop.wait(delay) if delay > 0 else stop.is_set()

"""devkit.service: rounds on a schedule, the last results kept, a stop flag ends it after the round."""

import os
import signal
import threading

from devkit.service import every, stop_on_signals


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_every_runs_count_rounds_and_keeps_only_the_last_results():
    clock, stop = _Clock(), threading.Event()
    seen = []

    def tick():
        seen.append(clock.now)
        clock.now += 5.0  # each round takes longer than the interval: no sleeping, no drift
        return len(seen)

    rounds, recent = every(2.0, tick, clock, stop, count=1000, keep=3)
    assert rounds == 1000 and recent == [998, 999, 1000]
    assert seen[:3] == [1000.0, 1005.0, 1010.0]


def test_a_set_stop_flag_ends_the_schedule_after_the_round_in_progress():
    clock, stop = _Clock(), threading.Event()

    def tick():
        stop.set()
        return "done"

    assert every(0.01, tick, clock, stop) == (1, ["done"])


def test_sigterm_sets_the_flag_and_the_previous_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    assert signal.getsignal(signal.SIGTERM) is before

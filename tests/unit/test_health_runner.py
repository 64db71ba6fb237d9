"""Health execution: concurrency, per-check timeouts, the deadline, the cache and single flight."""

import threading
import time

from devkit.health import Check, Outcome
from devkit.health.runner import CachedRunner, Report, run_checks


def sleeper(name, seconds, status="pass", **kw):
    """A check that sleeps ``seconds`` and then answers ``status``."""

    def probe():
        time.sleep(seconds)
        return Outcome(status, f"slept {seconds} s")

    return Check(name, probe, **kw)


def test_ten_half_second_checks_finish_together():
    checks = [sleeper(f"c{i}", 0.5) for i in range(10)]
    started = time.monotonic()
    report = run_checks(checks, deadline_s=5)
    elapsed = time.monotonic() - started
    assert [r.status for r in report.results] == ["pass"] * 10
    assert elapsed < 0.8, f"ten 0.5 s checks took {elapsed:.2f} s: not concurrent"


def test_a_hung_check_fails_at_its_own_timeout_and_the_others_still_answer():
    hang = threading.Event()
    checks = [Check("hung", hang.wait, timeout_s=0.3), sleeper("quick", 0.05)]
    started = time.monotonic()
    report = run_checks(checks, deadline_s=5)
    elapsed = time.monotonic() - started
    hang.set()
    assert [(r.name, r.status, r.output) for r in report.results] == [
        ("hung", "fail", "timed out after 0.3 s"),
        ("quick", "pass", "slept 0.05 s"),
    ]
    assert elapsed < 2.0


def test_the_run_deadline_caps_every_check():
    hang = threading.Event()
    checks = [Check("a", hang.wait, timeout_s=30), Check("b", hang.wait)]
    started = time.monotonic()
    report = run_checks(checks, deadline_s=0.4, default_timeout_s=30)
    elapsed = time.monotonic() - started
    hang.set()
    assert [r.output for r in report.results] == ["timed out after 0.4 s"] * 2
    assert report.status == "fail"
    assert elapsed < 2.0


def test_outputs_are_scrubbed_of_secrets():
    check = Check("leaky", lambda: Outcome("fail", "token sk-123456 rejected"))
    report = run_checks([check], deadline_s=1, scrub=lambda text: text.replace("sk-123456", "***"))
    assert report.results[0].output == "token *** rejected"


def _counting_producer(status, delay_s=0.0):
    calls = []

    def produce():
        calls.append(1)
        time.sleep(delay_s)
        outcome = Outcome(status, "")
        return Report([Check("x", lambda: outcome).check()], 0.0, delay_s)

    return produce, calls


def test_concurrent_callers_share_one_run():
    runner = CachedRunner()
    produce, calls = _counting_producer("pass", delay_s=0.3)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(runner.run("k", produce))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert len(reports) == 8 and all(r is reports[0] for r in reports)


def test_cache_ttls_differ_for_pass_and_fail():
    now = [100.0]
    runner = CachedRunner(clock=lambda: now[0])
    produce_pass, pass_calls = _counting_producer("pass")
    produce_fail, fail_calls = _counting_producer("fail")
    for _ in range(2):
        runner.run("p", produce_pass, ttl_pass_s=5, ttl_fail_s=1)
        runner.run("f", produce_fail, ttl_pass_s=5, ttl_fail_s=1)
    assert (len(pass_calls), len(fail_calls)) == (1, 1)
    now[0] += 2
    runner.run("p", produce_pass, ttl_pass_s=5, ttl_fail_s=1)
    runner.run("f", produce_fail, ttl_pass_s=5, ttl_fail_s=1)
    assert (len(pass_calls), len(fail_calls)) == (1, 2)
    now[0] += 4
    runner.run("p", produce_pass, ttl_pass_s=5, ttl_fail_s=1)
    assert len(pass_calls) == 2

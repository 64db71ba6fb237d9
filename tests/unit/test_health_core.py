"""Health: the check interface, aggregation, selection, budgets and the report formats."""

import json

import pytest

from devkit.health import CannotRun, Check, Outcome, Registry, aggregate
from devkit.health.render import exit_code, health_json, nagios_line, verdict
from devkit.health.runner import Report
from devkit.health.suite import select
from devkit.health.system import budget_outcome


def result(name, status, critical=True, **kw):
    """A finished result of a check returning ``status``."""
    return Check(name, lambda: Outcome(status, f"{name} says {status}", **kw), critical=critical).check()


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([("a", "pass", True), ("b", "pass", False)], "pass"),
        ([("a", "pass", True), ("b", "warn", True)], "warn"),
        ([("a", "pass", True), ("b", "warn", False)], "warn"),
        ([("a", "pass", True), ("b", "fail", False)], "warn"),
        ([("a", "fail", True), ("b", "pass", False)], "fail"),
        ([("a", "fail", True), ("b", "warn", False)], "fail"),
    ],
)
def test_aggregation_table(statuses, expected):
    assert aggregate([result(n, s, c) for n, s, c in statuses]) == expected


def test_a_raising_check_is_a_failed_check_not_a_crash():
    def broken():
        raise RuntimeError("disk on fire\nsecond line")

    res = Check("broken", broken).check()
    assert res.status == "fail"
    assert res.output == "raised RuntimeError: disk on fire / second line"


@pytest.mark.parametrize(
    "returned, status",
    [
        (None, "pass"),
        (True, "pass"),
        (False, "fail"),
        ("warn", "warn"),
        ({"status": "warn"}, "warn"),
        (42, "fail"),
    ],
)
def test_app_checks_may_return_simple_values(returned, status):
    assert Check("app", lambda: returned).check().status == status


def test_registry_register_works_as_decorator_and_call():
    reg = Registry()

    @reg.register("cache", critical=False, timeout_s=1)
    def cache_ok():
        return True

    reg.register("queue", lambda: Outcome("warn", "backlog 90 %"))
    assert cache_ok() is True
    report = reg.run(names=["cache", "queue"], use_cache=False)
    assert [(r.name, r.status, r.critical) for r in report.results] == [
        ("cache", "pass", False),
        ("queue", "warn", True),
    ]
    assert report.status == "warn"


def test_devkit_health_is_the_module_registry():
    import devkit
    from devkit.health import registry

    name = "unit-test-probe"
    devkit.health.register(name, lambda: Outcome("pass", "fine", 3, "jobs"))
    try:
        report = devkit.health.run(names=[name], use_cache=False)
    finally:
        devkit.health.unregister(name)
    assert [(r.name, r.status, r.observed_value) for r in report.results] == [(name, "pass", 3)]
    assert name not in [c.name for c in registry.checks()]


def test_select_modes_and_names():
    checks = [Check("process", None, live=True), Check("db", None), Check("cache", None, critical=False)]
    assert [c.name for c in select(checks, "live")] == ["process"]
    assert [c.name for c in select(checks, "ready")] == ["process", "db"]
    assert [c.name for c in select(checks, "all", ["cache", "db", "cache"])] == ["cache", "db"]
    with pytest.raises(CannotRun, match="no check named 'nope'.*known: cache, db, process"):
        select(checks, "all", ["nope"])
    with pytest.raises(CannotRun, match="no checks"):
        select([Check("x", None, critical=False)], "ready")


@pytest.mark.parametrize(
    "used, status, words",
    [
        (0, "pass", "0 of 1,000 tokens"),
        (799, "pass", "(80 %)"),
        (800, "warn", "near budget"),
        (1000, "fail", "over"),
    ],
)
def test_token_budget_warns_at_80_and_fails_at_100_percent(used, status, words):
    outcome = budget_outcome("tokens", used, 1000)
    assert outcome.status == status
    assert words in outcome.output


def test_cost_budget_is_shown_in_dollars():
    outcome = budget_outcome("cost", 4.5, 5.0)
    assert (outcome.status, outcome.observed_unit) == ("warn", "USD")
    assert "$4.5000 of $5.00" in outcome.output


@pytest.mark.parametrize(
    "status, nagios, docker", [("pass", 0, 0), ("warn", 1, 0), ("fail", 2, 1), ("unknown", 3, 1)]
)
def test_exit_codes_of_both_profiles(status, nagios, docker):
    assert exit_code(status, "nagios") == nagios
    assert exit_code(status, "docker") == docker


def _report():
    latency = Outcome("pass", "model llama3:latest available (12 ms)", 12.0, "ms", ("0.5", "5", "0", None))
    space = Outcome("warn", "low space: 150 MB free", 150.0, "MB", ("200:", "100:", "0", None))
    checks = [
        Check("model.llama3", lambda: latency, "model", measurement="latency", component_id="llama3"),
        Check("storage.data", lambda: space, "storage", measurement="free", component_id="data"),
        Check("config", lambda: Outcome("pass", "valid"), "system"),
    ]
    return Report([c.check(clock=lambda: 1700000000.25) for c in checks], 1700000000.0, 0.0123)


def test_health_json_has_the_ietf_draft_shape():
    doc = json.loads(json.dumps(health_json(_report())))
    assert doc["status"] == "warn" and doc["version"]
    assert list(doc["checks"]) == ["model.llama3:latency", "storage.data:free", "config"]
    entry = doc["checks"]["model.llama3:latency"][0]
    assert {"componentType", "observedValue", "observedUnit", "status", "time", "output"} <= set(entry)
    assert (entry["componentType"], entry["observedValue"], entry["observedUnit"]) == ("model", 12.0, "ms")
    assert entry["time"] == "2023-11-14T22:13:20.250Z"


def test_nagios_line_follows_the_plugin_guidelines():
    line = nagios_line(_report())
    assert "\n" not in line
    text, perf = line.split(" | ")
    assert text == "DEVKIT HEALTH WARNING - 1 warned of 3: storage.data: low space: 150 MB free"
    assert perf == "'model_llama3_latency'=0.012s;0.5;5;0; 'storage_data_free'=150MB;200:;100:;0;"


def test_verdict_of_a_passing_run_counts_the_checks():
    report = Report([result("a", "pass"), result("b", "pass")], 0.0, 0.1)
    assert verdict(report) == "2 checks passed"


def test_perfdata_numbers_are_plain_decimals():
    from devkit.health.core import perf_number

    assert perf_number(0.8 * 2_000_000) == "1600000"
    assert perf_number(0.25) == "0.25"
    assert perf_number(-0.0) == "0"

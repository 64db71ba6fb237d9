"""Issue 15 item 2: health answers by its deadline with a held store lock, bounded config, exit 3 on any fault."""

import os
import re
import time

import pytest

import devkit.health.record
from devkit.config.schema import SECTIONS
from devkit.health import registry
from devkit.health.suite import health_settings
from tests.adversarial.conftest import assert_one_error, held_write_lock, run_cli, write_json

NAGIOS_WORDS = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def _nagios_code(line):
    word = re.match(r"DEVKIT HEALTH (\w+) - ", line).group(1)
    return NAGIOS_WORDS[word]


def test_health_with_the_write_lock_held_answers_by_its_deadline_in_process(project):
    with held_write_lock(project / ".devkit" / "devkit.db"):
        started = time.monotonic()
        code, out, err = run_cli(project, "health", "--timeout", "2", "--format", "nagios", "-v")
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert code == _nagios_code(out) and code != 3, (out, err)
    assert "health report not saved" in err and "busy past the deadline" in err, err


def test_health_with_the_write_lock_held_answers_by_its_deadline_as_a_process(project, run_devkit):
    with held_write_lock(project / ".devkit" / "devkit.db"):
        started = time.monotonic()
        result = run_devkit("health", "--timeout", "2", "--format", "nagios", cwd=project, timeout=30)
        elapsed = time.monotonic() - started
    # The interpreter's own start is outside devkit's deadline; the old behaviour took 30 s.
    assert elapsed < 6.0, elapsed
    assert result.code == _nagios_code(result.out) and result.code != 3, result
    assert result.err == "", result


def test_the_report_is_saved_when_the_store_is_free(project):
    cfg = _config(project)
    recorded = devkit.health.record.run_and_save(cfg, deadline_s=5)
    assert recorded.note is None
    from devkit.store import open_store

    with open_store(cfg) as store:
        assert store.last_health()["status"] == recorded.data["status"]


def _config(root):
    from devkit.config import load_config

    return load_config(cwd=str(root), env={})


def test_a_deadline_past_its_bound_is_one_line_naming_the_key(tmp_path):
    write_json(tmp_path / "devkit.json", {"health": {"deadline_s": 1e10}})
    code, out, err = run_cli(tmp_path, "health", "--format", "nagios")
    assert code == 3
    assert_one_error(err, "health.deadline_s", "<= 3600")
    assert out.startswith("DEVKIT HEALTH UNKNOWN - ")
    code, _out, err = run_cli(tmp_path, "config", "validate")
    assert code == 2 and "health.deadline_s: expected a number <= 3600, got 10000000000.0" in err


@pytest.mark.parametrize("timeout", ["1" * 400, "100000d", "0", "-1", "3601"])
def test_a_bad_timeout_is_unknown_not_a_crash(tmp_path, timeout):
    code, out, err = run_cli(tmp_path, "health", "--timeout", timeout, "--format", "nagios")
    assert code == 3, err
    assert_one_error(err, "--timeout")
    assert out.startswith("DEVKIT HEALTH UNKNOWN - --timeout")


@pytest.mark.parametrize("profile,expected", [("nagios", 3), ("docker", 1)])
def test_an_internal_error_is_unknown_under_nagios(tmp_path, monkeypatch, profile, expected):
    def broken(*args, **kwargs):
        raise OverflowError("timestamp out of range for platform time_t")

    monkeypatch.setattr(devkit.health.record, "run_and_save", broken)
    code, out, err = run_cli(tmp_path, "health", "--format", "nagios", "--exit-profile", profile)
    assert code == expected
    assert_one_error(err.replace("unexpected OverflowError", "OverflowError"), "OverflowError")
    assert (
        out
        == "DEVKIT HEALTH UNKNOWN - unexpected OverflowError: timestamp out of range for platform time_t\n"
    )


def test_health_defaults_are_the_schemas(monkeypatch):
    assert health_settings(None) == {key: field.default for key, field in SECTIONS["health"].items()}
    monkeypatch.setattr(SECTIONS["health"]["deadline_s"], "default", 0.3)
    registry.register("adversarial-hang", lambda: time.sleep(5), critical=False)
    try:
        started = time.monotonic()
        report = registry.run(config=None, names=["adversarial-hang"], use_cache=False)
    finally:
        registry.unregister("adversarial-hang")
    assert time.monotonic() - started < 3
    assert report.results[0].output == "timed out after 0.3 s"


def test_no_health_module_copies_a_config_default():
    folder = os.path.dirname(devkit.health.record.__file__)
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                text = handle.read()
            assert "DEFAULTS" not in text, name
            assert '.get("expected_status", 200)' not in text, name

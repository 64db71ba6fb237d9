"""Issue 15 item 4 (this side): durations, config files and integer settings are bounded where they enter."""

import os

import pytest

from devkit.errors import UsageError
from devkit.util import parse_duration
from tests.adversarial.conftest import assert_one_error, make_char_device, run_cli, write_json

HUGE = "9" * 400


@pytest.mark.parametrize("text", [HUGE, HUGE + "d", "100000d", "3651d", "1" * 31 + "s", "x" * 10_000])
def test_parse_duration_is_bounded_to_ten_years(text):
    with pytest.raises(UsageError) as caught:
        parse_duration(text, "--since")
    message = caught.value.message
    assert message.startswith("--since: ") and len(message) < 160


def test_parse_duration_still_reads_ten_years():
    assert parse_duration("3650d") == 3650 * 86400
    assert parse_duration("250ms") == 0.25


@pytest.mark.parametrize(
    "argv",
    [
        ["metrics", "export", "--since", HUGE],
        ["metrics", "export", "--since", "1000000d"],
        ["metrics", "export", "--every", HUGE, "--count", "1"],
        ["metrics", "export", "--format", ""],
        ["status", "--since", HUGE],
        ["metrics", "--since", HUGE],
    ],
    ids=[
        "since-400-digits",
        "since-1000000d",
        "every-400-digits",
        "format-empty",
        "status-since",
        "metrics-since",
    ],
)
def test_bad_arguments_are_one_line_exit_2(project, argv):
    code, out, err = run_cli(project, *argv)
    assert code == 2, err
    assert out == ""
    assert_one_error(err)


def _config_error(root, explicit=None, env=None):
    argv = (["--config", explicit] if explicit else []) + ["config", "show"]
    code, out, err = run_cli(root, *argv, env=env)
    assert code == 2 and out == "", (code, out, err)
    return err


@pytest.mark.parametrize("via", ["--config", "DEVKIT_CONFIG"])
def test_a_fifo_as_config_is_refused_not_waited_on(tmp_path, run_devkit, via):
    fifo = tmp_path / "devkit.json"
    os.mkfifo(fifo)
    argv = ["--config", str(fifo)] if via == "--config" else []
    env = {"DEVKIT_CONFIG": str(fifo)} if via == "DEVKIT_CONFIG" else None
    # A subprocess with a timeout: the old behaviour blocked forever opening the FIFO.
    result = run_devkit(*argv, "config", "show", env=env, cwd=tmp_path, timeout=20)
    assert result.code == 2
    assert_one_error(result.err, "not a regular file")


def test_a_device_as_config_is_refused(tmp_path):
    node = make_char_device(str(tmp_path / "zero.json"), 1, 5)
    err = _config_error(tmp_path, node)
    assert_one_error(err, "not a regular file")


def test_a_huge_config_is_refused_by_size(tmp_path):
    path = tmp_path / "devkit.json"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    assert_one_error(_config_error(tmp_path, str(path)), "too large", "1 MiB")
    assert_one_error(_config_error(tmp_path), "too large")


def test_a_symlink_loop_config_says_loop(tmp_path):
    os.symlink("b.json", tmp_path / "a.json")
    os.symlink("a.json", tmp_path / "b.json")
    err = _config_error(tmp_path, "a.json")
    assert_one_error(err, "symbolic links")
    assert "not found" not in err
    err = _config_error(tmp_path, env={"DEVKIT_CONFIG": "b.json"})
    assert_one_error(err, "symbolic links", "DEVKIT_CONFIG")


def test_a_missing_config_still_says_not_found(tmp_path):
    assert_one_error(_config_error(tmp_path, "absent.json"), "config file not found")


@pytest.mark.parametrize(
    "name,value,key",
    [
        ("DEVKIT_METRICS_RECENT_LIMIT", "99999999999999999999", "DEVKIT_METRICS_RECENT_LIMIT"),
        ("DEVKIT_HEALTH_DEADLINE_S", "1e10", "DEVKIT_HEALTH_DEADLINE_S"),
        ("DEVKIT_EXPORT_KEEP", "1e300", "DEVKIT_EXPORT_KEEP"),
        ("DEVKIT_METRICS_FLUSH_INTERVAL_S", "1e309", "DEVKIT_METRICS_FLUSH_INTERVAL_S"),
    ],
)
def test_integer_and_duration_env_values_are_bounded(project, name, value, key):
    for argv in (["config", "show"], ["metrics", "export"]):
        code, out, err = run_cli(project, *argv, env={name: value})
        assert code == 2 and out == "", (argv, err)
        assert_one_error(err, key)


@pytest.mark.parametrize(
    "section,key,value",
    [
        ("metrics", "recent_limit", 10**20),
        ("health", "timeout_s", 1e10),
        ("export", "interval_s", 1e12),
        ("metrics", "retention_days", 1e9),
        ("health", "token_budget_24h", 2**64),
    ],
)
def test_config_file_values_are_bounded(tmp_path, section, key, value):
    write_json(tmp_path / "devkit.json", {section: {key: value}})
    err = _config_error(tmp_path)
    assert_one_error(err, f"{section}.{key}: expected", "<=")

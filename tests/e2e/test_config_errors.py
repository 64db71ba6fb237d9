"""Malformed configs through the real CLI: one ``devkit: error:`` line, exit 2, never a traceback.

Cases are data (tomli style): ``tests/data/configs/invalid/NAME.json|toml`` is copied into an empty
project as devkit.json, devkit.toml or (for ``pyproject_*``) pyproject.toml; ``NAME.expected`` holds the
text the error line must contain (when it has several lines, one of them: json's wording differs
between Python versions); an optional ``NAME.env`` holds ``VAR=value`` lines set for the run.
"""

import os
import shutil
import sys

import pytest

CASES_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "configs", "invalid")
HAS_TOMLLIB = sys.version_info >= (3, 11)
VALID = '{"server": {"port": 9000}, "models": [{"name": "a", "url": "http://127.0.0.1:1"}]}\n'


def _case_names():
    return sorted(os.path.splitext(n)[0] for n in os.listdir(CASES_DIR) if n.endswith((".json", ".toml")))


def _case_file(name):
    for ext in (".json", ".toml"):
        if os.path.exists(os.path.join(CASES_DIR, name + ext)):
            return name + ext
    raise AssertionError(f"no config file for case {name}")


def _target_name(name, filename):
    if name.startswith("pyproject_"):
        return "pyproject.toml"
    return "devkit.toml" if filename.endswith(".toml") else "devkit.json"


def _read_env(name):
    path = os.path.join(CASES_DIR, name + ".env")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        pairs = [line.rstrip("\n").split("=", 1) for line in handle if line.strip()]
    return dict(pairs)


def _expected(name, target):
    with open(os.path.join(CASES_DIR, name + ".expected"), encoding="utf-8") as handle:
        choices = [line for line in handle.read().splitlines() if line.strip()]
    if target.endswith(".toml") and not HAS_TOMLLIB:
        return [f"{target}: TOML config needs Python 3.11+"]
    return choices


def assert_one_error_line(result, expected):
    """Exit 2, nothing on stdout, exactly one ``devkit: error:`` line containing ``expected`` (or one of a list)."""
    assert result.code == 2, result
    assert result.out == "", result
    assert "Traceback" not in result.err, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("devkit: error: "), result
    choices = [expected] if isinstance(expected, str) else expected
    assert any(text in lines[0] for text in choices), f"none of {choices!r} in {lines[0]!r}"


def test_there_are_enough_cases():
    assert len(_case_names()) >= 34
    for name in _case_names():
        assert os.path.exists(os.path.join(CASES_DIR, name + ".expected")), name


@pytest.mark.parametrize("name", _case_names())
def test_invalid_config_gives_one_line_and_exit_2(name, run_devkit, tmp_path):
    filename = _case_file(name)
    target = _target_name(name, filename)
    shutil.copyfile(os.path.join(CASES_DIR, filename), tmp_path / target)
    result = run_devkit("config", "show", cwd=tmp_path, env=_read_env(name))
    assert_one_error_line(result, _expected(name, target))


def test_toml_on_old_python_says_use_json(run_devkit, tmp_path):
    (tmp_path / "devkit.toml").write_text("[server]\nport = 9000\n")
    result = run_devkit("config", "show", cwd=tmp_path)
    if HAS_TOMLLIB:
        assert result.code == 0, result
        assert "9000" in result.out
    else:
        version = "%d.%d" % sys.version_info[:2]
        assert_one_error_line(
            result, f"devkit.toml: TOML config needs Python 3.11+ (this is {version}); use devkit.json"
        )


def test_directory_given_by_config(run_devkit, tmp_path):
    (tmp_path / "devkit.json").mkdir()
    result = run_devkit("--config", "devkit.json", "config", "show", cwd=tmp_path)
    assert_one_error_line(result, "devkit.json: is a directory, not a config file")


def test_directory_found_by_search_is_skipped(run_devkit, tmp_path):
    (tmp_path / "devkit.json").mkdir()
    result = run_devkit("config", "show", cwd=tmp_path)
    assert result.code == 0, result
    assert "(none: defaults)" in result.out


def test_missing_file_via_option(run_devkit, tmp_path):
    result = run_devkit("config", "show", "--config", "nope/devkit.json", cwd=tmp_path)
    assert_one_error_line(result, "nope/devkit.json: config file not found (given by --config)")


def test_missing_file_via_env(run_devkit, tmp_path):
    result = run_devkit("config", "show", cwd=tmp_path, env={"DEVKIT_CONFIG": "missing.json"})
    assert_one_error_line(result, "missing.json: config file not found (given by DEVKIT_CONFIG)")


def test_dangling_symlink_given_by_config(run_devkit, tmp_path):
    # Root can read any file, so a broken link is the portable "exists in the listing but cannot be read".
    os.symlink(str(tmp_path / "gone.json"), str(tmp_path / "devkit.json"))
    result = run_devkit("--config", "devkit.json", "config", "show", cwd=tmp_path)
    assert_one_error_line(result, "devkit.json: config file not found (given by --config)")


def test_validate_lists_every_problem(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text(
        '{"server": {"prot": 1, "port": "x"}, "models": [{"name": "a", "url": "u", "timeout": 0}]}'
    )
    result = run_devkit("config", "validate", cwd=tmp_path)
    assert result.code == 2, result
    assert result.out == ""
    assert "Traceback" not in result.err
    assert result.err.splitlines() == [
        "devkit.json: server.prot: unknown key (did you mean 'port'?)",
        'devkit.json: server.port: expected an integer >= 0 and <= 65535, got "x"',
        "devkit.json: models[0].timeout: expected a number > 0, got 0",
        "devkit: error: 3 problem(s) found",
    ]


def test_validate_includes_env_problems(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": "x"}}')
    result = run_devkit("config", "validate", cwd=tmp_path, env={"DEVKIT_HEALTH_TIMEOUT_S": "-1"})
    assert result.code == 2, result
    assert result.err.splitlines() == [
        'devkit.json: server.port: expected an integer >= 0 and <= 65535, got "x"',
        'env DEVKIT_HEALTH_TIMEOUT_S: expected a number > 0, got "-1"',
        "devkit: error: 2 problem(s) found",
    ]


def test_validate_file_argument_on_valid_file(run_devkit, tmp_path):
    (tmp_path / "other.json").write_text(VALID)
    result = run_devkit("config", "validate", "other.json", cwd=tmp_path)
    assert result.code == 0, result
    assert result.out.strip() == "other.json: valid"
    assert result.err == ""


def test_validate_file_argument_on_bad_file_ignores_searched_one(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text(VALID)
    (tmp_path / "bad.json").write_text('{"backup": {"keep": 0}}')
    result = run_devkit("config", "validate", "bad.json", cwd=tmp_path)
    assert result.code == 2, result
    assert result.err.splitlines()[0] == "bad.json: backup.keep: expected an integer >= 1, got 0"


def test_validate_missing_file_argument(run_devkit, tmp_path):
    result = run_devkit("config", "validate", "absent.json", cwd=tmp_path)
    assert_one_error_line(result, "absent.json: config file not found (given by the FILE argument)")


def test_empty_config_option(run_devkit, tmp_path):
    result = run_devkit("--config", "", "config", "show", cwd=tmp_path)
    assert_one_error_line(result, "--config: expected a file path, got an empty string")


def test_unsupported_extension(run_devkit, tmp_path):
    (tmp_path / "devkit.yaml").write_text("server:\n  port: 1\n")
    result = run_devkit("--config", "devkit.yaml", "config", "show", cwd=tmp_path)
    assert_one_error_line(
        result, "devkit.yaml: unsupported config file type (use .json or .toml; given by --config)"
    )


def test_validate_json_output_is_one_document(run_devkit, tmp_path):
    import json

    (tmp_path / "devkit.json").write_text('{"server": {"port": -1}}')
    result = run_devkit("--json", "config", "validate", cwd=tmp_path)
    assert result.code == 2, result
    data = json.loads(result.out)
    assert data["valid"] is False
    assert data["problems"] == ["devkit.json: server.port: expected an integer >= 0 and <= 65535, got -1"]


def test_config_error_stops_other_commands_too(run_devkit, tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": 70000}}')
    result = run_devkit("config", "models", cwd=tmp_path)
    assert_one_error_line(result, "devkit.json: server.port: expected an integer")


@pytest.mark.parametrize(
    "target, text",
    [
        ("devkit.json", '{"project":' * 50000 + "1" + "}" * 50000),
        ("devkit.toml", "a = " + "[" * 50000 + "]" * 50000),
    ],
    ids=["json", "toml"],
)
def test_nested_too_deep_is_a_config_error(run_devkit, tmp_path, target, text):
    (tmp_path / target).write_text(text)
    result = run_devkit("config", "show", cwd=tmp_path)
    if target.endswith(".toml") and not HAS_TOMLLIB:
        assert_one_error_line(result, f"{target}: TOML config needs")
    else:
        assert_one_error_line(result, f"{target}: invalid {target[-4:].upper()}: ")

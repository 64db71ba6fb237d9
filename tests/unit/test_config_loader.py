"""Finding and reading config files, and DEVKIT_<SECTION>_<KEY> overrides, with real files."""

import os
import sys

import pytest

from devkit.config import load_config, validate_config
from devkit.config.loader import env_overrides, find_config, read_document
from devkit.errors import ConfigError

HAS_TOMLLIB = sys.version_info >= (3, 11)


def test_find_config_none(tmp_path):
    assert find_config(str(tmp_path), {}) is None


def test_find_config_walks_up_and_prefers_toml(tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    deep = tmp_path / "x" / "y"
    deep.mkdir(parents=True)
    assert find_config(str(deep), {}) == str(tmp_path / "devkit.json")
    (tmp_path / "x" / "devkit.toml").write_text("")
    assert find_config(str(deep), {}) == str(tmp_path / "x" / "devkit.toml")


def test_find_config_nearest_wins(tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "devkit.json").write_text("{}")
    assert find_config(str(tmp_path / "sub"), {}) == str(tmp_path / "sub" / "devkit.json")


def test_find_config_pyproject_needs_the_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.black]\n")
    assert find_config(str(tmp_path), {}) is None
    (tmp_path / "pyproject.toml").write_text("[tool.devkit]\n")
    assert find_config(str(tmp_path), {}) == str(tmp_path / "pyproject.toml")


def test_explicit_and_env_override_search(tmp_path):
    (tmp_path / "devkit.json").write_text("{}")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    env = {"DEVKIT_CONFIG": "a.json"}
    assert find_config(str(tmp_path), env) == os.path.join(str(tmp_path), "a.json")
    assert find_config(str(tmp_path), env, "b.json") == os.path.join(str(tmp_path), "b.json")
    absolute = str(tmp_path / "b.json")
    assert find_config("/", {}, absolute) == absolute


def test_missing_explicit_file_names_its_source(tmp_path):
    with pytest.raises(ConfigError, match=r"^nope.json: config file not found \(given by --config\)$"):
        find_config(str(tmp_path), {}, "nope.json")
    with pytest.raises(ConfigError, match=r"given by DEVKIT_CONFIG"):
        find_config(str(tmp_path), {"DEVKIT_CONFIG": "nope.json"})


def test_read_json_document(tmp_path):
    path = tmp_path / "devkit.json"
    path.write_bytes(b'\xef\xbb\xbf{"server": {"port": 1}}')
    assert read_document(str(path), "devkit.json") == {"server": {"port": 1}}


def test_read_json_syntax_error_names_line(tmp_path):
    path = tmp_path / "devkit.json"
    path.write_text('{\n"a": 1\n"b": 2\n}')
    with pytest.raises(ConfigError) as info:
        read_document(str(path), "devkit.json")
    assert info.value.message.startswith("devkit.json:3: invalid JSON: ")
    assert info.value.exit_code == 2


@pytest.mark.skipif(not HAS_TOMLLIB, reason="TOML needs tomllib (3.11+)")
def test_read_pyproject_takes_tool_devkit(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n[tool.devkit.server]\nport = 2\n')
    assert read_document(str(path), "pyproject.toml") == {"server": {"port": 2}}


@pytest.mark.skipif(HAS_TOMLLIB, reason="only Pythons without tomllib")
def test_toml_without_tomllib_says_use_json(tmp_path):
    path = tmp_path / "devkit.toml"
    path.write_text("[server]\nport = 2\n")
    with pytest.raises(ConfigError, match=r"devkit.toml: TOML config needs Python 3.11\+ .*use devkit.json"):
        read_document(str(path), "devkit.toml")


def test_env_overrides_typed():
    env = {
        "DEVKIT_SERVER_PORT": "9000",
        "DEVKIT_HEALTH_SLOW_MS": "150",
        "DEVKIT_PROJECT_DATA_DIRS": "a,b",
        "DEVKIT_CONFIG": "ignored.json",
        "HOME": "/root",
    }
    values, sources, problems = env_overrides(env)
    assert problems == []
    assert values == {
        "server": {"port": 9000},
        "health": {"slow_ms": 150.0},
        "project": {"data_dirs": ["a", "b"]},
    }
    assert type(values["server"]["port"]) is int
    assert sources["project.data_dirs"] == "env DEVKIT_PROJECT_DATA_DIRS"


def test_env_override_secret_value_not_echoed():
    _values, _sources, problems = env_overrides({"DEVKIT_SERVER_PORT": "abc", "DEVKIT_SERVER_TOKEN": "t"})
    assert problems == ['env DEVKIT_SERVER_PORT: expected an integer >= 0 and <= 65535, got "abc"']


def test_load_config_reports_first_problem_and_count(tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": -1}, "backup": {"keep": 0}}')
    with pytest.raises(ConfigError) as info:
        load_config(cwd=str(tmp_path), env={})
    assert info.value.message == (
        "devkit.json: server.port: expected an integer >= 0 and <= 65535, got -1"
        " (and 1 more; run 'devkit config validate')"
    )


def test_validate_config_returns_all_problems_and_a_config(tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": -1}, "backup": {"keep": 0}}')
    report = validate_config(cwd=str(tmp_path), env={"DEVKIT_SERVER_HOST": "0.0.0.0"})
    assert report["file"] == "devkit.json"
    assert len(report["problems"]) == 2
    assert report["config"].get("server", "host") == "0.0.0.0"


def test_label_is_absolute_outside_cwd(tmp_path):
    (tmp_path / "devkit.json").write_text('{"server": {"port": -1}}')
    inner = tmp_path / "inner"
    inner.mkdir()
    report = validate_config(cwd=str(inner), env={})
    assert report["problems"][0].startswith(str(tmp_path / "devkit.json") + ": server.port")

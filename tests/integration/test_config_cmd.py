"""``devkit config show|models|experiments`` in-process: search, precedence, env overrides, redaction."""

import json
import os
import sys

import pytest

HAS_TOMLLIB = sys.version_info >= (3, 11)
PLANTED = "sk-PLANTED-7f3a9c"
LITERAL = "tok-LITERAL-51b2e8"
ENV_TOKEN = "envtok-ZZ-0042"


def write_json(path, data):
    """Write ``data`` as JSON, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def show(cli, *argv, **kwargs):
    """``config show --json`` parsed, asserting success."""
    result = cli("--json", "config", "show", *argv, **kwargs)
    assert result.code == 0, result
    return json.loads(result.out)


def test_defaults_without_a_file(cli, tmp_path):
    data = show(cli)
    assert data["file"] is None
    assert data["root"] == str(tmp_path)
    assert data["state_dir"] == os.path.join(str(tmp_path), ".devkit")
    assert data["config"]["server"] == {"host": "127.0.0.1", "port": 8765, "token": None}
    assert data["config"]["models"] == []
    assert set(data["sources"].values()) == {"default"}
    assert not (tmp_path / ".devkit").exists(), "config show must not create the state dir"
    text = cli("config", "show")
    assert "# file: (none: defaults)" in text.out


def test_search_upward_from_nested_dir(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"server": {"port": 9100}, "project": {"state_dir": "var/state"}})
    nested = tmp_path / "a" / "b" / "c"
    nested.mkdir(parents=True)
    data = show(cli, cwd=nested)
    assert data["file"] == str(tmp_path / "devkit.json")
    assert data["root"] == str(tmp_path)
    assert data["state_dir"] == str(tmp_path / "var" / "state")
    assert data["config"]["server"]["port"] == 9100
    assert data["sources"]["server.port"].endswith("devkit.json")


def test_precedence_option_then_env_then_search(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"server": {"port": 9001}})
    write_json(tmp_path / "env.json", {"server": {"port": 9002}})
    write_json(tmp_path / "opt.json", {"server": {"port": 9003}})
    assert show(cli)["config"]["server"]["port"] == 9001
    env = {"DEVKIT_CONFIG": "env.json"}
    assert show(cli, env=env)["config"]["server"]["port"] == 9002
    assert show(cli, "--config", "opt.json", env=env)["config"]["server"]["port"] == 9003
    assert show(cli, "--config", "opt.json")["config"]["server"]["port"] == 9003


def test_env_config_relative_to_cwd_and_root_is_its_folder(cli, tmp_path):
    write_json(tmp_path / "conf" / "dk.json", {"server": {"port": 9004}})
    data = show(cli, env={"DEVKIT_CONFIG": "conf/dk.json"})
    assert data["config"]["server"]["port"] == 9004
    assert data["root"] == str(tmp_path / "conf")
    assert data["state_dir"] == str(tmp_path / "conf" / ".devkit")


def test_toml_is_preferred_to_json_in_one_folder(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"server": {"port": 9001}})
    (tmp_path / "devkit.toml").write_text("[server]\nport = 9005\n")
    result = cli("--json", "config", "show")
    if HAS_TOMLLIB:
        assert result.code == 0, result
        assert json.loads(result.out)["config"]["server"]["port"] == 9005
    else:
        assert result.code == 2
        assert "devkit.toml: TOML config needs Python 3.11+" in result.err


@pytest.mark.skipif(not HAS_TOMLLIB, reason="TOML needs tomllib (3.11+)")
def test_toml_file_with_models(cli, tmp_path):
    (tmp_path / "devkit.toml").write_text(
        '[project]\nname = "demo"\n\n[[models]]\nname = "llama"\nprovider = "ollama"\n'
        'url = "http://127.0.0.1:11434"\ntimeout = 2.5\n'
    )
    data = show(cli)
    assert data["config"]["project"]["name"] == "demo"
    model = data["config"]["models"][0]
    assert (model["name"], model["provider"], model["timeout"], model["model"]) == (
        "llama",
        "ollama",
        2.5,
        "llama",
    )


@pytest.mark.skipif(not HAS_TOMLLIB, reason="TOML needs tomllib (3.11+)")
def test_pyproject_tool_devkit_is_used(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.devkit.server]\nport = 9006\n')
    data = show(cli)
    assert data["file"] == str(tmp_path / "pyproject.toml")
    assert data["config"]["server"]["port"] == 9006


def test_pyproject_without_table_is_skipped(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"server": {"port": 9007}})
    sub = tmp_path / "pkg"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.black]\nline-length = 100\n')
    data = show(cli, cwd=sub)
    assert data["file"] == str(tmp_path / "devkit.json")
    assert data["config"]["server"]["port"] == 9007


def test_env_overrides_are_typed_and_sourced(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"server": {"port": 9001}, "backup": {"keep": 3}})
    env = {
        "DEVKIT_SERVER_PORT": "9000",
        "DEVKIT_STORAGE_PATHS": "data, logs ,,models",
        "DEVKIT_HEALTH_TIMEOUT_S": "2.5",
        "DEVKIT_EXPORT_FORMAT": "prom",
    }
    data = show(cli, env=env)
    cfg, sources = data["config"], data["sources"]
    assert cfg["server"]["port"] == 9000 and isinstance(cfg["server"]["port"], int)
    assert cfg["storage"]["paths"] == ["data", "logs", "models"]
    assert cfg["health"]["timeout_s"] == 2.5
    assert cfg["export"]["format"] == "prom"
    assert cfg["backup"]["keep"] == 3
    assert sources["server.port"] == "env DEVKIT_SERVER_PORT"
    assert sources["storage.paths"] == "env DEVKIT_STORAGE_PATHS"
    assert sources["backup.keep"] == "devkit.json"
    assert sources["backup.dir"] == "default"
    text = cli("config", "show", env=env).out
    lines = text.splitlines()
    port_line = lines[lines.index("server") + 2]
    assert port_line.split() == ["port", "9000", "env", "DEVKIT_SERVER_PORT"]


def test_unrelated_devkit_env_vars_are_ignored(cli):
    data = show(cli, env={"DEVKIT_SOMETHING_ELSE": "1", "DEVKIT_CONFIG": ""})
    assert data["file"] is None


def _secret_project(tmp_path):
    write_json(
        tmp_path / "devkit.json",
        {
            "server": {"token": LITERAL},
            "health": {"token_budget_24h": 500000},
            "models": [
                {"name": "gpt", "url": "http://127.0.0.1:1/v1", "api_key": "env:K"},
                {"name": "local", "url": "http://127.0.0.1:2", "api_key": LITERAL + "-model"},
            ],
        },
    )
    return {"K": PLANTED}


@pytest.mark.parametrize(
    "argv",
    [["config", "show"], ["--json", "config", "show"], ["config", "models"], ["--json", "config", "models"]],
)
def test_secrets_never_shown(cli, tmp_path, argv):
    env = _secret_project(tmp_path)
    result = cli(*argv, env=env, tty=True)
    assert result.code == 0, result
    for secret in (PLANTED, LITERAL, "env:K"):
        assert secret not in result.out + result.err, (argv, secret)


def test_secret_env_override_is_redacted(cli, tmp_path):
    env = _secret_project(tmp_path)
    env["DEVKIT_SERVER_TOKEN"] = ENV_TOKEN
    data = show(cli, env=env)
    assert data["config"]["server"]["token"] == "***"
    assert data["sources"]["server.token"] == "env DEVKIT_SERVER_TOKEN"
    assert ENV_TOKEN not in cli("config", "show", env=env).out


def test_redaction_shows_stars_but_keeps_numbers(cli, tmp_path):
    data = show(cli, env=_secret_project(tmp_path))
    assert data["config"]["server"]["token"] == "***"
    assert [m["api_key"] for m in data["config"]["models"]] == ["***", "***"]
    assert data["config"]["health"]["token_budget_24h"] == 500000


def test_config_models_table(cli, tmp_path):
    write_json(
        tmp_path / "devkit.json",
        {
            "models": [
                {"name": "gpt", "url": "http://a/v1", "price_input_per_1m": 2.5, "price_output_per_1m": 10},
                {
                    "name": "llama",
                    "provider": "ollama",
                    "url": "http://b",
                    "model": "llama3:8b",
                    "critical": False,
                },
            ]
        },
    )
    result = cli("config", "models")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].split() == [
        "name",
        "provider",
        "url",
        "model",
        "timeout",
        "$/1M",
        "in",
        "$/1M",
        "out",
        "critical",
    ]
    assert lines[1].split() == ["gpt", "openai", "http://a/v1", "gpt", "5", "2.50", "10", "yes"]
    assert lines[2].split() == ["llama", "ollama", "http://b", "llama3:8b", "5", "0", "0", "no"]
    assert lines[0].index("url") == lines[1].index("http://a/v1") == lines[2].index("http://b")


def test_config_models_empty(cli):
    result = cli("config", "models")
    assert result.code == 0
    assert result.out.startswith("no models configured")
    assert json.loads(cli("--json", "config", "models").out) == {"models": []}


def test_config_models_json_fills_defaults(cli, tmp_path):
    write_json(tmp_path / "devkit.json", {"models": [{"name": "m", "url": "http://m"}]})
    model = json.loads(cli("--json", "config", "models").out)["models"][0]
    assert model == {
        "name": "m",
        "provider": "openai",
        "url": "http://m",
        "model": "m",
        "timeout": 5,
        "price_input_per_1m": 0,
        "price_output_per_1m": 0,
        "price_cached_input_per_1m": None,
        "critical": True,
        "api_key": None,
        "expected_status": 200,
    }


def _experiments(root):
    folder = root / "experiments"
    write_json(folder / "run-a.json", {"id": "exp-001", "date": "2024-03-01T10:00:00Z", "score": 0.9})
    write_json(folder / "nested" / "run-b.json", {"created_at": 1700000000, "score": 0.5})
    (folder / "broken.json").write_text('{\n  "id": "x",\n  oops\n}')
    (folder / "notes.txt").write_text("not a record")
    return folder


def test_config_experiments_from_folder(cli, tmp_path):
    _experiments(tmp_path)
    data = json.loads(cli("--json", "config", "experiments").out)
    by_id = {e["id"]: e for e in data["experiments"]}
    assert set(by_id) == {"exp-001", "run-b", "broken"}
    assert by_id["exp-001"]["date"] == "2024-03-01T10:00:00Z"
    assert by_id["exp-001"]["path"] == os.path.join("experiments", "run-a.json")
    assert by_id["exp-001"]["size_bytes"] == (tmp_path / "experiments" / "run-a.json").stat().st_size
    assert by_id["run-b"]["date"] == "2023-11-14T22:13:20Z"
    assert by_id["run-b"]["path"] == os.path.join("experiments", "nested", "run-b.json")
    assert by_id["broken"]["error"] == "invalid JSON at line 3"
    assert by_id["exp-001"]["error"] is None


def test_config_experiments_table(cli, tmp_path):
    _experiments(tmp_path)
    result = cli("config", "experiments")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert lines[0].split() == ["id", "date", "size", "path", "problem"]
    broken = [line for line in lines if line.startswith("broken")][0]
    assert broken.rstrip().endswith("invalid JSON at line 3")
    assert any(line.startswith("exp-001") and "experiments/run-a.json" in line for line in lines)


def test_config_experiments_from_glob(cli, tmp_path):
    write_json(tmp_path / "results" / "one.result.json", {"id": 7})
    write_json(tmp_path / "results" / "two.json", {"id": "skipped"})
    write_json(tmp_path / "devkit.json", {"experiments": {"path": "results/*.result.json"}})
    data = json.loads(cli("--json", "config", "experiments").out)
    assert [(e["id"], e["path"]) for e in data["experiments"]] == [
        ("7", os.path.join("results", "one.result.json"))
    ]


def test_config_experiments_none_found(cli):
    result = cli("config", "experiments")
    assert result.code == 0
    assert result.out.startswith("no experiment records found")

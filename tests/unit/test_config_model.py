"""The effective Config object: values, paths, secrets, scrubbing, redaction and cost."""

import os

import pytest

from devkit.config import load_config, redact


def make_config(tmp_path, text, env=None):
    """Write devkit.json into tmp_path and load it with ``env``."""
    (tmp_path / "devkit.json").write_text(text)
    return load_config(cwd=str(tmp_path), env=env or {})


MODELS = """{
  "models": [
    {"name": "gpt", "url": "http://a", "price_input_per_1m": 2.0, "price_output_per_1m": 6.0, "api_key": "env:K"},
    {"name": "local", "url": "http://b", "model": "llama3", "api_key": "literal-key-123"}
  ],
  "server": {"token": "env:MISSING"}
}"""


def test_defaults(tmp_path):
    cfg = load_config(cwd=str(tmp_path), env={})
    assert cfg.path is None and cfg.root == str(tmp_path)
    assert cfg.state_dir == str(tmp_path / ".devkit")
    assert cfg.get("server", "port") == 8765
    assert cfg.section("cleanup")["patterns"] == ["*.tmp", "*.partial", "__pycache__", "*.pyc"]
    assert cfg.models == []
    assert cfg.project_name == tmp_path.name


def test_section_is_a_copy(tmp_path):
    cfg = load_config(cwd=str(tmp_path), env={})
    cfg.section("cleanup")["patterns"].append("*.bak")
    assert cfg.get("cleanup", "patterns") == ["*.tmp", "*.partial", "__pycache__", "*.pyc"]


def test_resolve_path(tmp_path):
    cfg = make_config(tmp_path, '{"project": {"state_dir": "../state"}}')
    assert cfg.state_dir == os.path.normpath(str(tmp_path / ".." / "state"))
    assert cfg.resolve_path("/abs/x") == "/abs/x"
    assert cfg.resolve_path("~/x") == os.path.expanduser("~/x")
    assert cfg.resolve_path("data") == str(tmp_path / "data")


def test_models_filled_with_defaults(tmp_path):
    cfg = make_config(tmp_path, MODELS, {"K": "sk-planted-value"})
    gpt, local = cfg.models
    assert gpt["model"] == "gpt" and local["model"] == "llama3"
    assert gpt["provider"] == "openai" and gpt["timeout"] == 5 and gpt["critical"] is True
    assert local["expected_status"] == 200


def test_secret_resolution(tmp_path):
    cfg = make_config(tmp_path, MODELS, {"K": "sk-planted-value"})
    assert cfg.secret("env:K") == "sk-planted-value"
    assert cfg.secret("env:MISSING") is None
    assert cfg.secret("plain") == "plain"
    assert cfg.secret(None) is None


def test_scrub_replaces_every_resolved_secret(tmp_path):
    cfg = make_config(tmp_path, MODELS, {"K": "sk-planted-value"})
    text = "auth sk-planted-value failed; also literal-key-123 and env:MISSING"
    assert cfg.scrub(text) == "auth *** failed; also *** and env:MISSING"
    assert cfg.scrub(42) == "42"


def test_scrub_env_override_token(tmp_path):
    cfg = make_config(tmp_path, "{}", {"DEVKIT_SERVER_TOKEN": "bearer-xyz-789"})
    assert cfg.scrub("header: Bearer bearer-xyz-789") == "header: Bearer ***"


def test_redacted_hides_secrets_only(tmp_path):
    cfg = make_config(tmp_path, MODELS, {"K": "sk-planted-value"})
    data = cfg.redacted()
    assert [m["api_key"] for m in data["models"]] == ["***", "***"]
    assert data["server"]["token"] == "***"
    assert data["models"][0]["url"] == "http://a"
    assert "sk-planted-value" not in repr(data) and "literal-key-123" not in repr(data)
    assert cfg.models[1]["api_key"] == "literal-key-123", "redacted() must not change the config"


def test_redact_keeps_numbers_under_secret_like_names():
    data = {"prompt_tokens": 12, "token_budget_24h": 1000, "api_key": "", "token": None, "password": "p4ss"}
    assert redact(data) == {
        "prompt_tokens": 12,
        "token_budget_24h": 1000,
        "api_key": "",
        "token": None,
        "password": "***",
    }


@pytest.mark.parametrize(
    "model, prompt, completion, expected",
    [
        ("gpt", 1000, 500, 0.005),
        ("gpt", 1_000_000, 0, 2.0),
        ("gpt", None, None, 0.0),
        ("unknown", 1000, 1000, 0.0),
        ("local", 1000, 1000, 0.0),
    ],
)
def test_cost(tmp_path, model, prompt, completion, expected):
    cfg = make_config(tmp_path, MODELS, {})
    assert cfg.cost(model, prompt, completion) == pytest.approx(expected)


def test_project_name(tmp_path):
    assert make_config(tmp_path, '{"project": {"name": "demo"}}').project_name == "demo"

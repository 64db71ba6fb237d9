"""``python -m devkit health`` as a real subprocess: every exit code of both profiles, the deadline, secrets."""

import json
import time

import pytest

from tests.integration._health_fakes import closed_port_url, fake_ollama, fake_openai, hanging_server

PLANTED = "sk-planted-e2e-3Kd8Lm1Q"


def write_config(tmp_path, models):
    """devkit.json with ``models`` and a writable data folder as storage."""
    (tmp_path / "data").mkdir(exist_ok=True)
    body = {"models": models, "storage": {"paths": ["data"], "min_free_mb": 0}}
    (tmp_path / "devkit.json").write_text(json.dumps(body))


def ollama(name, url, **extra):
    """One Ollama model entry."""
    return {"name": name, "provider": "ollama", "url": url, "timeout": 3, **extra}


@pytest.mark.parametrize("profile, expected", [("nagios", 0), ("docker", 0)])
def test_all_pass(run_devkit, tmp_path, profile, expected):
    with fake_ollama(["llama3:latest"]) as url:
        write_config(tmp_path, [ollama("llama3", url)])
        res = run_devkit("health", "--exit-profile", profile)
    assert res.code == expected, res
    assert "health: PASS - 4 checks passed" in res.out


@pytest.mark.parametrize("profile, expected", [("nagios", 1), ("docker", 0)])
def test_non_critical_model_down_is_a_warning(run_devkit, tmp_path, profile, expected):
    with fake_ollama(["llama3:latest"]) as url:
        write_config(tmp_path, [ollama("llama3", url), ollama("spare", closed_port_url(), critical=False)])
        res = run_devkit("health", "--format", "nagios", "--exit-profile", profile)
    assert res.code == expected, res
    assert res.out.startswith(
        "DEVKIT HEALTH WARNING - 1 failed of 5: model.spare: unreachable: connection refused"
    )


@pytest.mark.parametrize("profile, expected", [("nagios", 2), ("docker", 1)])
def test_critical_model_missing_is_a_failure(run_devkit, tmp_path, profile, expected):
    with fake_ollama(["mistral:7b"]) as url:
        write_config(tmp_path, [ollama("llama3", url)])
        res = run_devkit("health", "--json", "--exit-profile", profile)
    assert res.code == expected, res
    doc = json.loads(res.out)
    assert doc["status"] == "fail"
    assert doc["checks"]["model.llama3:latency"][0]["output"].startswith("model missing: 'llama3'")


@pytest.mark.parametrize("profile, expected", [("nagios", 3), ("docker", 1)])
def test_bad_config_could_not_run(run_devkit, tmp_path, profile, expected):
    (tmp_path / "devkit.json").write_text('{"health": {"timeout_s": "soon"}}')
    res = run_devkit("health", "--exit-profile", profile)
    assert res.code == expected, res
    assert res.out == ""
    assert res.err.count("\n") == 1 and res.err.startswith("devkit: error: devkit.json: health.timeout_s")


def test_unknown_check_name_could_not_run(run_devkit, tmp_path):
    write_config(tmp_path, [])
    res = run_devkit("health", "--check", "model.nope", "--format", "nagios")
    assert res.code == 3, res
    assert res.out.startswith("DEVKIT HEALTH UNKNOWN - --check: no check named 'model.nope'")
    assert res.err.startswith(
        "devkit: error: --check: no check named 'model.nope' (known: config, storage.data"
    )


def test_hung_endpoint_is_named_and_the_answer_comes_by_the_deadline(run_devkit, tmp_path):
    with fake_ollama(["llama3:latest"]) as good, hanging_server() as stuck:
        write_config(tmp_path, [ollama("llama3", good), ollama("stuck", stuck, timeout=60)])
        started = time.monotonic()
        res = run_devkit("health", "--timeout", "2")
        elapsed = time.monotonic() - started
    assert res.code == 2, res
    assert elapsed < 2.5, f"devkit health --timeout 2 took {elapsed:.2f} s"
    stuck_line = [line for line in res.out.splitlines() if line.startswith("model.stuck")]
    assert stuck_line and "fail" in stuck_line[0] and stuck_line[0].endswith("timed out after 2 s")
    assert "health: FAIL - 1 failed of 5: model.stuck: timed out after 2 s" in res.out


def test_planted_secret_appears_in_no_output(run_devkit, tmp_path):
    with fake_openai(PLANTED, ["gpt-4o-mini"]) as url:
        models = [
            {
                "name": "gpt",
                "provider": "openai",
                "url": url,
                "model": "gpt-4o-mini",
                "api_key": "env:DK_E2E_KEY",
            },
            {"name": "echo", "provider": "openai", "url": url, "model": PLANTED, "api_key": "env:DK_E2E_KEY"},
        ]
        write_config(tmp_path, models)
        env = {"DK_E2E_KEY": PLANTED}
        runs = [
            run_devkit("health", "-v", *extra, env=env) for extra in ([], ["--json"], ["--format", "nagios"])
        ]
    assert "gpt-4o-mini available" in runs[0].out
    assert "model missing: '***'" in runs[0].out
    for res in runs:
        assert res.code == 2, res
        assert PLANTED not in res.out and PLANTED not in res.err
